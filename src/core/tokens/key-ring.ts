// Signing keys: generated on first start, persisted by a KeyStore (so restarts and other
// instances verify each other's tokens), imported once and kept in memory.
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
}

interface ImportedKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export class KeyRing {
  private constructor(
    readonly alg: string,
    private readonly keys: ImportedKey[],
  ) {}

  static async load(store: KeyStore, purpose: string, alg: "EdDSA" | "RS256"): Promise<KeyRing> {
    const stored = await store.loadOrCreate(purpose, () => generateStoredKey(alg));
    const keys = await Promise.all(
      stored.map(async (k) => ({
        kid: k.kid,
        privateKey: (await importJWK(k.privateJwk, k.alg)) as CryptoKey,
        publicKey: (await importJWK(k.publicJwk, k.alg)) as CryptoKey,
        publicJwk: k.publicJwk,
      })),
    );
    return new KeyRing(alg, keys);
  }

  /** The newest key signs. */
  signing(): { kid: string; key: CryptoKey } {
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
