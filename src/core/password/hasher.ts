// Password hashing with argon2id (OWASP: m >= 19 MiB, t >= 2, p = 1). Hashes are
// PHC strings, so hashes made with older parameters are recognised and upgraded.
import { hash, verify, type Algorithm } from "@node-rs/argon2";
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

const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/;

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
    const m = PHC.exec(passwordHash);
    if (!m) return { ok: false, needsRehash: false };
    const ok = await this.pool.run(() => verify(passwordHash, password).catch(() => false), priority); // malformed hash: no match
    const { memoryKiB, iterations, parallelism } = this.params;
    const needsRehash =
      Number(m[1]) !== memoryKiB || Number(m[2]) !== iterations || Number(m[3]) !== parallelism;
    return { ok, needsRehash };
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
