// "Revoke all sessions of an account": a per-account revocation time. Sessions, session tokens
// and access tokens issued before it stop working on every instance at once.
import type { Clock } from "../clock.js";
import type { EphemeralStore } from "../ephemeral.js";

export class Revocations {
  constructor(
    private readonly store: EphemeralStore,
    private readonly clock: Clock,
    /** Longer than anything it must outlive (sessions, access tokens). */
    private readonly keepMs: number,
  ) {}

  async revokeAll(accountId: string): Promise<void> {
    await this.store.set(key(accountId), String(this.clock.now()), this.keepMs);
  }

  /** When the account's sessions were last revoked (ms), or 0. */
  async revokedAt(accountId: string): Promise<number> {
    return Number((await this.store.get(key(accountId))) ?? 0);
  }

  /** Whether something issued at `issuedAtMs` was revoked since. */
  async revoked(accountId: string, issuedAtMs: number): Promise<boolean> {
    return issuedAtMs <= (await this.revokedAt(accountId));
  }
}

const key = (accountId: string) => `revoked-before:${accountId}`;
