// Secrets at rest (TOTP secrets, private signing keys) sealed with the master key: AES-256-GCM
// under a key derived (HKDF) from SIGNIN_MASTER_KEY, in a tagged envelope
//   sealed.v1.<master key id>.<iv>.<ciphertext+tag>
// so a value says which master key sealed it (rotation re-seals what the previous key sealed).
// The associated data names the row (column and id): a sealed value copied into another row, or
// another column, does not open. Without a master key (development) values stay in clear.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

const PREFIX = "sealed.v1.";
const CURRENT = "SIGNIN_MASTER_KEY";
const PREVIOUS = "SIGNIN_MASTER_KEY_PREVIOUS";

/** A start-up or read failure of sealed secrets; the message names the setting at fault. */
export class SealError extends Error {}

interface MasterKey {
  /** Public, one-way: tells which master key sealed a value without revealing it. */
  id: string;
  key: Buffer;
  /** The key of the signing-key format before v1 (no key id, no associated data). */
  legacyKey: Buffer;
  setting: string;
}

function masterKey(secret: string, setting: string): MasterKey {
  const derive = (info: string, bytes: number) => Buffer.from(hkdfSync("sha256", secret, "signin", info, bytes));
  return {
    id: derive("secrets-at-rest key id", 6).toString("base64url"),
    key: derive("secrets-at-rest v1", 32),
    legacyKey: derive("signing-key-encryption", 32),
    setting,
  };
}

/** The signing-key envelope written before sealed.v1 (a JSON object in signing_keys.private_jwk). */
export interface LegacySealed {
  enc: "A256GCM";
  iv: string;
  tag: string;
  data: string;
}

export const isSealed = (stored: string): boolean => stored.startsWith("sealed.");

export class Sealer {
  private readonly current: MasterKey | null;
  private readonly previous: MasterKey | null;

  /** `current` is SIGNIN_MASTER_KEY, `previous` SIGNIN_MASTER_KEY_PREVIOUS (only opens old values). */
  constructor(current: string | null, previous: string | null = null) {
    if (previous && !current) throw new SealError(`${PREVIOUS} needs ${CURRENT} (the key to re-seal with)`);
    this.current = current ? masterKey(current, CURRENT) : null;
    this.previous = previous ? masterKey(previous, PREVIOUS) : null;
  }

  /** Whether values are sealed; without a master key they are stored in clear. */
  get sealing(): boolean {
    return this.current !== null;
  }

  /** The current master key's id (null without one), as written in the envelope. */
  get keyId(): string | null {
    return this.current?.id ?? null;
  }

  /** What every value sealed now starts with (a SQL LIKE pattern's prefix: no wildcard in it). */
  get currentPrefix(): string | null {
    return this.current ? `${PREFIX}${this.current.id}.` : null;
  }

  /** `plain` sealed for the row `ad` names (e.g. "accounts.totp_secret:<id>"); in clear without a master key. */
  seal(plain: string, ad: string): string {
    if (!this.current) return plain;
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.current.key, iv);
    cipher.setAAD(Buffer.from(ad, "utf8"));
    const data = Buffer.concat([cipher.update(plain, "utf8"), cipher.final(), cipher.getAuthTag()]);
    return `${this.currentPrefix}${iv.toString("base64url")}.${data.toString("base64url")}`;
  }

  /**
   * The plain value of `stored` (sealed for `ad`, or in clear: stored without a master key, re-sealed
   * at the next start). Throws SealError when it cannot be opened: never read as "no secret".
   */
  open(stored: string, ad: string): string {
    if (!isSealed(stored)) return stored;
    const [version, id, iv, data] = stored.split(".").slice(1);
    const key = [this.current, this.previous].find((k) => k?.id === id);
    if (version !== "v1" || !iv || !data) throw new SealError(`${CURRENT}: ${ad} holds a sealed value of an unknown format (${version}): written by a newer release?`);
    if (!key) throw new SealError(this.unknownKey(id));
    const bytes = Buffer.from(data, "base64url");
    try {
      const decipher = createDecipheriv("aes-256-gcm", key.key, Buffer.from(iv, "base64url"));
      decipher.setAAD(Buffer.from(ad, "utf8"));
      decipher.setAuthTag(bytes.subarray(-16));
      return Buffer.concat([decipher.update(bytes.subarray(0, -16)), decipher.final()]).toString("utf8");
    } catch {
      throw new SealError(`${key.setting}: the sealed value of ${ad} does not open: it was altered or copied from another row`);
    }
  }

  /** Whether `stored` is as `seal` would store it now: sealed with the current key, or in clear without one. */
  isCurrent(stored: string): boolean {
    const prefix = this.currentPrefix;
    return prefix ? stored.startsWith(prefix) : !isSealed(stored);
  }

  /** Opens the signing-key envelope written before sealed.v1, with either master key. */
  openLegacy(sealed: LegacySealed, what: string): string {
    if (!this.current) throw new SealError(this.unknownKey(undefined));
    for (const key of [this.current, this.previous]) {
      if (!key) continue;
      try {
        const decipher = createDecipheriv("aes-256-gcm", key.legacyKey, Buffer.from(sealed.iv, "base64url"));
        decipher.setAuthTag(Buffer.from(sealed.tag, "base64url"));
        return Buffer.concat([decipher.update(Buffer.from(sealed.data, "base64url")), decipher.final()]).toString("utf8");
      } catch {
        // the other key may have sealed it
      }
    }
    throw new SealError(
      `${CURRENT}: wrong key: ${what} was sealed with another master key (neither ${CURRENT}${this.previous ? ` nor ${PREVIOUS}` : ""}); ` +
        `set ${CURRENT} to the key that sealed it, or that key as ${PREVIOUS} to re-seal under a new ${CURRENT}`,
    );
  }

  private unknownKey(id: string | undefined): string {
    if (!this.current) {
      return `${CURRENT} is not set, but the database holds secrets sealed with a master key; set ${CURRENT} to that key`;
    }
    return (
      `${CURRENT}: wrong key: the database holds secrets sealed with master key id ${id ?? "(unknown)"}, ` +
      `which is neither ${CURRENT} (id ${this.current.id})${this.previous ? ` nor ${PREVIOUS} (id ${this.previous.id})` : ""}; ` +
      `set ${CURRENT} to the key that sealed them, or that key as ${PREVIOUS} to re-seal them under a new ${CURRENT}`
    );
  }
}
