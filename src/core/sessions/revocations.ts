// "Revoke all sessions of an account": a per-account revocation stamp. Sessions, session tokens
// and access tokens issued before it stop working on every instance at once, except the one
// credential it names (the caller's own, when the user changed their account themselves).
import type { Clock } from "../clock.js";
import type { EphemeralStore } from "../ephemeral.js";

export interface Revocation {
  /** Everything issued at or before this time (ms) is revoked; 0: nothing ever was. */
  at: number;
  /** The one credential spared: a session chain id or an access token id. */
  except?: string;
}

export class Revocations {
  constructor(
    private readonly store: EphemeralStore,
    private readonly clock: Clock,
    /** Longer than anything it must outlive (sessions, access tokens). */
    private readonly keepMs: number,
  ) {}

  /**
   * Ends every credential of the account, but `except`. A later stamp replaces this one whole, so
   * a credential spared once is ended by the next revocation that does not spare it again.
   */
  async revokeAll(accountId: string, except?: string): Promise<void> {
    const at = this.clock.now();
    await this.store.set(key(accountId), except ? `${at} ${except}` : String(at), this.keepMs);
  }

  async revocation(accountId: string): Promise<Revocation> {
    const raw = await this.store.get(key(accountId));
    if (!raw) return { at: 0 };
    const space = raw.indexOf(" ");
    return space < 0 ? { at: Number(raw) } : { at: Number(raw.slice(0, space)), except: raw.slice(space + 1) };
  }

  /** When the account's sessions were last revoked (ms), or 0. */
  async revokedAt(accountId: string): Promise<number> {
    return (await this.revocation(accountId)).at;
  }

  /** Whether something issued at `issuedAtMs` (the credential `id`) was revoked since. */
  async revoked(accountId: string, issuedAtMs: number, id?: string): Promise<boolean> {
    return ends(await this.revocation(accountId), issuedAtMs, id);
  }
}

/** Whether the stamp ends a credential issued at `issuedAtMs` whose id is `id`. */
export function ends(r: Revocation, issuedAtMs: number, id?: string): boolean {
  return issuedAtMs <= r.at && !(r.except !== undefined && r.except === id);
}

const key = (accountId: string) => `revoked-before:${accountId}`;
