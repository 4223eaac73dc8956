// Password hashing with argon2id (OWASP: m >= 19 MiB, t >= 2, p = 1). Hashes are
// PHC strings, so hashes made with older parameters, other argon2 variants or bcrypt (imported
// from other systems) are recognised, verified and upgraded at the next successful sign-in.
// Every operation runs off the event loop (napi-rs on libuv's threads) and through the pool.
import { hash, verify, type Algorithm } from "@node-rs/argon2";
import { verify as bcryptVerify } from "@node-rs/bcrypt";
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

/**
 * The most a hash may cost to verify: a hash names its own parameters, so an imported bcrypt cost 31
 * (days of CPU) or argon2 m=4 GiB would turn one sign-in into a denial of service. Hashes above are
 * refused at import and never verified (the configured argon2 parameters raise these caps when higher).
 */
export const HASH_CAPS = { argon2MemoryKiB: 64 * 1024, argon2Iterations: 10, argon2Parallelism: 4, bcryptCost: 14 } as const;

const ARGON2 = /^\$argon2(id|i|d)\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/;
// Imported from other systems (the Cosync original stored bcrypt(md5hex)); upgraded at the next sign-in.
const BCRYPT = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/;

export class PasswordHasher {
  private dummyHash: Promise<string>;

  /** Every operation runs through `pool` (HashPoolBusy when it is full). */
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
    // Stored before the caps existed: the work of an unknown account, never the hash's own.
    if (this.hashProblem(passwordHash)) return { ok: await this.verifyDummy(password, priority), needsRehash: false };
    if (BCRYPT.test(passwordHash)) {
      const ok = await this.pool.run(() => bcryptVerify(password, passwordHash).catch(() => false), priority);
      return { ok, needsRehash: true };
    }
    const m = ARGON2.exec(passwordHash)!;
    const ok = await this.pool.run(() => verify(passwordHash, password).catch(() => false), priority); // malformed hash: no match
    const { memoryKiB, iterations, parallelism } = this.params;
    const needsRehash =
      m[1] !== "id" || Number(m[2]) !== memoryKiB || Number(m[3]) !== iterations || Number(m[4]) !== parallelism;
    return { ok, needsRehash };
  }

  /** Why a stored or imported hash is not one this hasher verifies (not argon2/bcrypt PHC, or above the caps), else null. */
  hashProblem(passwordHash: string): string | null {
    const bcrypt = BCRYPT.exec(passwordHash);
    if (bcrypt) return above("bcrypt cost", Number(bcrypt[1]), HASH_CAPS.bcryptCost);
    const m = ARGON2.exec(passwordHash);
    if (!m) return "is not an argon2 or bcrypt PHC string";
    const { memoryKiB, iterations, parallelism } = this.params;
    return (
      above("argon2 memory (m, KiB)", Number(m[2]), Math.max(HASH_CAPS.argon2MemoryKiB, memoryKiB)) ??
      above("argon2 iterations (t)", Number(m[3]), Math.max(HASH_CAPS.argon2Iterations, iterations)) ??
      above("argon2 parallelism (p)", Number(m[4]), Math.max(HASH_CAPS.argon2Parallelism, parallelism))
    );
  }

  /** Same work as a real verify, always false: unknown accounts answer in the same time. */
  async verifyDummy(password: string, priority: Priority = "normal"): Promise<false> {
    const dummy = await this.dummyHash;
    await this.pool.run(() => verify(dummy, password).catch(() => false), priority);
    return false;
  }
}

function above(what: string, value: number, max: number): string | null {
  return value > max ? `has ${what} ${value}, above the maximum of ${max}` : null;
}

/** NIST SP 800-63B 5.1.1.2: normalise before hashing so the same typed password always matches. */
export function normalizePassword(password: string): string {
  return password.normalize("NFKC");
}
