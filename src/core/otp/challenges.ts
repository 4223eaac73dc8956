// Short-lived challenges answered with a one-time code (login tokens, phone verification):
// single use (consumed atomically on any instance), expiring, and dead after a few wrong codes.
// Attempts are counted before a code is checked, so concurrent guesses cannot exceed the budget.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Clock } from "../clock.js";
import type { EphemeralStore } from "../ephemeral.js";

export interface Challenge<T> {
  data: T;
  /** HMAC of the expected code when one was sent (SMS); codes are never stored in clear. */
  codeHash?: string;
  expiresAt: number;
  /** The server secret `codeMatches` needs: set (not enumerable) by `peek`, never stored. */
  codeSecret?: Buffer;
}

export type AttemptOutcome<T> = { status: "ok"; data: T } | { status: "wrong" } | { status: "invalid" };

export class Challenges {
  constructor(
    private readonly store: EphemeralStore,
    private readonly clock: Clock,
    private readonly maxAttempts: number,
    /** See code-secret.ts: kept out of the store the code hashes are in. */
    private readonly codeSecret: Buffer,
  ) {}

  async create<T>(key: string, data: T, ttlMs: number, code?: string): Promise<void> {
    const challenge: Challenge<T> = { data, expiresAt: this.clock.now() + ttlMs };
    if (code) challenge.codeHash = hashCode(key, code, this.codeSecret);
    await this.store.delete(attemptsKey(key));
    await this.store.set(key, JSON.stringify(challenge), ttlMs);
  }

  async delete(key: string): Promise<void> {
    await this.store.delete(key);
  }

  async peek<T>(key: string): Promise<Challenge<T> | null> {
    const raw = await this.store.get(key);
    const challenge = raw ? (JSON.parse(raw) as Challenge<T>) : null;
    if (!challenge || challenge.expiresAt <= this.clock.now()) return null;
    Object.defineProperty(challenge, "codeSecret", { value: this.codeSecret, enumerable: false });
    return challenge;
  }

  /**
   * One attempt at the challenge: `check` decides whether the answer is right (for SMS codes,
   * use `codeMatches`). Right: the challenge is consumed and its data returned, once only.
   */
  async attempt<T>(key: string, check: (c: Challenge<T>) => Promise<boolean> | boolean): Promise<AttemptOutcome<T>> {
    const challenge = await this.peek<T>(key);
    if (!challenge) return { status: "invalid" };
    const ttlMs = challenge.expiresAt - this.clock.now();
    // Counted before the answer is checked, so concurrent guesses cannot exceed the budget. Past it,
    // an attempt is refused without deleting anything: a delete would race with the right answer of
    // a double submit (one of the first attempts), which must still win. The counter lives as long
    // as the challenge, so an exhausted challenge stays refused until it expires.
    const n = await this.store.increment(attemptsKey(key), ttlMs);
    if (n > this.maxAttempts) return { status: "invalid" };
    if (!(await check(challenge))) return { status: "wrong" };
    // take(): of two right answers racing (on any instances), only one consumes the challenge.
    return (await this.store.take(key)) ? { status: "ok", data: challenge.data } : { status: "invalid" };
  }
}

/** Constant-time check of a code against the challenge's stored HMAC. */
export function codeMatches(key: string, challenge: Challenge<unknown>, code: string): boolean {
  if (!challenge.codeHash || !challenge.codeSecret) return false;
  const expected = Buffer.from(challenge.codeHash, "hex");
  const actual = Buffer.from(hashCode(key, code, challenge.codeSecret), "hex");
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

const attemptsKey = (key: string) => `${key}:attempts`;

// Keyed by the server secret (a Redis dump alone does not let anyone try the million codes
// offline) and the challenge's key (equal codes never hash alike).
function hashCode(key: string, code: string, secret: Buffer): string {
  return createHmac("sha256", createHmac("sha256", secret).update(key).digest()).update(code).digest("hex");
}
