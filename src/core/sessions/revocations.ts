// "Revoke all sessions of an account": a per-account revocation stamp. Sessions, session tokens
// and access tokens issued before it stop working on every instance at once, except the one
// credential it names (the caller's own, when the user changed their account themselves).
// Stamps are kept in the database (durable) and cached in the shared store: a flushed Redis
// must not bring revoked access tokens back (they are stateless).
import type { Clock } from "../clock.js";
import type { EphemeralStore } from "../ephemeral.js";

export interface Revocation {
  /** Everything issued at or before this time (ms) is revoked; 0: nothing ever was. */
  at: number;
  /** The one credential spared: a session chain id or an access token id. */
  except?: string;
}

/** Where stamps outlive the shared store (the database). */
export interface RevocationStore {
  /** Replaces the account's stamp. */
  save(accountId: string, r: Revocation): Promise<void>;
  load(accountId: string): Promise<Revocation | null>;
}

export class Revocations {
  constructor(
    private readonly store: EphemeralStore,
    private readonly clock: Clock,
    /** Longer than anything it must outlive (sessions, access tokens). */
    private readonly keepMs: number,
    /** Without it (some tests), stamps live in the shared store only. */
    private readonly durable?: RevocationStore,
  ) {}

  /**
   * Ends every credential of the account, but `except`. A later stamp replaces this one whole, so
   * a credential spared once is ended by the next revocation that does not spare it again.
   */
  async revokeAll(accountId: string, except?: string): Promise<void> {
    const r: Revocation = { at: this.clock.now(), except };
    await this.durable?.save(accountId, r);
    await this.cache(accountId, r);
  }

  async revocation(accountId: string): Promise<Revocation> {
    // One round trip: both keys go out together.
    const [atRaw, exceptRaw] = await Promise.all([this.store.get(atKey(accountId)), this.store.get(exceptKey(accountId))]);
    if (atRaw === null) return this.fill(accountId);
    const at = Number(atRaw);
    // The spared id counts only with its own stamp (an older one's is ignored: stricter, never looser).
    const space = exceptRaw?.indexOf(" ") ?? -1;
    const except = exceptRaw && space > 0 && Number(exceptRaw.slice(0, space)) === at ? exceptRaw.slice(space + 1) : undefined;
    return { at, except };
  }

  /** Not cached (a flushed or new store): the database says, and the cache learns it, "none" too. */
  private async fill(accountId: string): Promise<Revocation> {
    const r = (await this.durable?.load(accountId)) ?? { at: 0 };
    await this.cache(accountId, r);
    return r;
  }

  /**
   * The spared id first, then the stamp with a compare-and-set: a fill racing a newer revocation
   * cannot put the older stamp back (advance stores only a greater time).
   */
  private async cache(accountId: string, r: Revocation): Promise<void> {
    if (r.except) await this.store.set(exceptKey(accountId), `${r.at} ${r.except}`, this.keepMs);
    await this.store.advance(atKey(accountId), r.at, this.keepMs);
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

const atKey = (accountId: string) => `revoked-before:${accountId}`;
const exceptKey = (accountId: string) => `revoked-except:${accountId}`;
