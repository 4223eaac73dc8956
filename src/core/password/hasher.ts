// Password hashing with argon2id (OWASP: m >= 19 MiB, t >= 2, p = 1). Hashes are
// PHC strings, so hashes made with older parameters, other argon2 variants or bcrypt (imported
// from other systems) are recognised, verified and upgraded at the next successful sign-in.
import { hash, verify, type Algorithm } from "@node-rs/argon2";
import bcrypt from "bcryptjs";
import { HashPool, type Priority } from "./hash-pool.js";

const ARGON2ID = 2 as Algorithm; // Algorithm.Argon2id (a const enum, not importable as a value)

export interface Argon2Params {
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

export interface VerifyOutcome {
  ok: boolean;
  /** The hash was made with other parameters than the configured ones. */
  needsRehash: boolean;
}

const ARGON2 = /^\$argon2(id|i|d)\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/;
// Imported from other systems (the Cosync original stored bcrypt(md5hex)); upgraded at the next sign-in.
const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

export class PasswordHasher {
  private dummyHash: Promise<string>;

  /** Every argon2 operation runs through `pool` (HashPoolBusy when it is full). */
  constructor(
    private readonly params: Argon2Params,
    private readonly pool: HashPool = new HashPool(Number.MAX_SAFE_INTEGER, 0),
  ) {
    // Verified against for unknown accounts so that they cost the same time.
    this.dummyHash = this.hash("dummy password for unknown accounts");
  }

  hash(password: string): Promise<string> {
    return this.pool.run(() =>
      hash(password, {
        algorithm: ARGON2ID,
        memoryCost: this.params.memoryKiB,
        timeCost: this.params.iterations,
        parallelism: this.params.parallelism,
      }),
    );
  }

  async verify(passwordHash: string, password: string, priority: Priority = "normal"): Promise<VerifyOutcome> {
    if (BCRYPT.test(passwordHash)) {
      const ok = await this.pool.run(() => bcrypt.compare(password, passwordHash).catch(() => false), priority);
      return { ok, needsRehash: true };
    }
    const m = ARGON2.exec(passwordHash);
    if (!m) return { ok: false, needsRehash: false };
    const ok = await this.pool.run(() => verify(passwordHash, password).catch(() => false), priority); // malformed hash: no match
    const { memoryKiB, iterations, parallelism } = this.params;
    const needsRehash =
      m[1] !== "id" || Number(m[2]) !== memoryKiB || Number(m[3]) !== iterations || Number(m[4]) !== parallelism;
    return { ok, needsRehash };
  }

  /** Whether a stored hash is one this hasher can verify (argon2 or bcrypt PHC strings). */
  static recognises(passwordHash: string): boolean {
    return ARGON2.test(passwordHash) || BCRYPT.test(passwordHash);
  }

  /** Same work as a real verify, always false: unknown accounts answer in the same time. */
  async verifyDummy(password: string, priority: Priority = "normal"): Promise<false> {
    const dummy = await this.dummyHash;
    await this.pool.run(() => verify(dummy, password).catch(() => false), priority);
    return false;
  }
}

/** NIST SP 800-63B 5.1.1.2: normalise before hashing so the same typed password always matches. */
export function normalizePassword(password: string): string {
  return password.normalize("NFKC");
}
