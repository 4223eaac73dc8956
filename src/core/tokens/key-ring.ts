// Signing keys: generated on first start, persisted by a KeyStore (so restarts and other
// instances verify each other's tokens), imported once and kept in memory: the private key as a
// node:crypto key object (jws.ts signs), the public one as jose verifies with it.
import { createPrivateKey, type KeyObject } from "node:crypto";
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from "jose";

export interface StoredKey {
  kid: string;
  alg: string;
  publicJwk: JWK;
  privateJwk: JWK;
  createdAt: Date;
}

export interface KeyStore {
  /**
   * The usable keys of `purpose`, newest first; when there are none, stores the one
   * `generate` makes. Two instances starting at once end up with the same single key.
   */
  loadOrCreate(purpose: string, generate: () => Promise<StoredKey>): Promise<StoredKey[]>;
  /** Stores a new signing key; the previous ones keep verifying for `graceMs`, then retire. */
  rotate(purpose: string, key: StoredKey, graceMs: number): Promise<void>;
}

/** How often instances pick up keys rotated elsewhere (the old key verifies meanwhile). */
export const KEY_RELOAD_MS = 60_000;

// Counts, per store, the changes to the keys this process's rings hold (a first key generated, a
// rotation, a reload that found other keys), so a cache of public keys (the JWKS) sees it is outdated.
const changes = new WeakMap<KeyStore, number>();

/** Grows whenever a ring on `store` in this process changes its keys. */
export function keyChanges(store: KeyStore): number {
  return changes.get(store) ?? 0;
}

const changed = (store: KeyStore) => changes.set(store, keyChanges(store) + 1);

interface ImportedKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export class KeyRing {
  private lastReload = Date.now();

  private constructor(
    readonly alg: "EdDSA" | "RS256",
    private keys: ImportedKey[],
    private readonly store: KeyStore,
    private readonly purpose: string,
  ) {}

  static async load(store: KeyStore, purpose: string, alg: "EdDSA" | "RS256"): Promise<KeyRing> {
    let generated = false;
    const keys = await importAll(store, purpose, alg, () => (generated = true));
    if (generated) changed(store);
    return new KeyRing(alg, keys, store, purpose);
  }

  /** Reads the keys again (new ones from a rotation elsewhere, retired ones gone). */
  async reload(): Promise<void> {
    this.lastReload = Date.now();
    const before = this.keys.map((k) => k.kid).join();
    this.keys = await importAll(this.store, this.purpose, this.alg);
    if (this.keys.map((k) => k.kid).join() !== before) changed(this.store);
  }

  /** Generates and stores a new signing key; the old ones verify for `graceMs` more. */
  async rotate(graceMs: number): Promise<string> {
    const key = await generateStoredKey(this.alg);
    await this.store.rotate(this.purpose, key, graceMs);
    await this.reload();
    return key.kid;
  }

  /** The verification key for `kid`, reloading once when it is unknown (rotated on another instance). */
  async verificationKey(kid: string | undefined): Promise<CryptoKey | undefined> {
    const known = this.verification(kid);
    if (known || Date.now() - this.lastReload < 1000) return known;
    await this.reload();
    return this.verification(kid);
  }

  /** Reloads if the last reload is older than KEY_RELOAD_MS (called before signing). */
  async fresh(): Promise<this> {
    if (Date.now() - this.lastReload > KEY_RELOAD_MS) await this.reload();
    return this;
  }

  /** The newest key signs. */
  signing(): { kid: string; key: KeyObject } {
    const k = this.keys[0]!;
    return { kid: k.kid, key: k.privateKey };
  }

  verification(kid: string | undefined): CryptoKey | undefined {
    return this.keys.find((k) => k.kid === kid)?.publicKey;
  }

  publicJwks(): JWK[] {
    return this.keys.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: this.alg, use: "sig" }));
  }
}

async function importAll(store: KeyStore, purpose: string, alg: "EdDSA" | "RS256", onGenerate = () => {}): Promise<ImportedKey[]> {
  const stored = await store.loadOrCreate(purpose, () => (onGenerate(), generateStoredKey(alg)));
  return Promise.all(
    stored.map(async (k) => ({
      kid: k.kid,
      privateKey: createPrivateKey({ key: k.privateJwk as never, format: "jwk" }),
      publicKey: (await importJWK(k.publicJwk, k.alg)) as CryptoKey,
      publicJwk: k.publicJwk,
    })),
  );
}

async function generateStoredKey(alg: "EdDSA" | "RS256"): Promise<StoredKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return {
    kid: crypto.randomUUID(),
    alg,
    publicJwk,
    privateJwk: await exportJWK(privateKey),
    createdAt: new Date(),
  };
}
