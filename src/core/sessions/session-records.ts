// What every live session records for the session list (issue 16): its kind, when it was signed
// in and last used, from where (IP as the limits group it, user agent) and on which device, in
// the shared store, expiring with the session. A Yeep-style session's record is the value of its
// rotation chain's key (read with the session on every use anyway); a Cosync access-token's is a
// key per `jti`, which must exist for the token to be accepted. Each account indexes its sessions
// in a member set, so they can be listed and ended one by one, on every instance at once.
import type { EphemeralStore } from "../ephemeral.js";
import type { RequestContext } from "../request-context.js";

export type SessionKind = "cookie" | "bearer" | "access-token";

export interface SessionInfo {
  accountId: string;
  kind: SessionKind;
  /** Sign-in time (ms). */
  createdAt: number;
  /** The last sign-in or refresh (ms); an access-token's issue. */
  lastUsedAt: number;
  /** Client IP of that last use, as the limits group it (IPv6 per /64). */
  ip: string;
  /** As sent (the transport keeps 256 characters). */
  userAgent: string;
  /** The device credential's id, when the sign-in presented or got one. */
  deviceId?: string;
}

/** A listed session: `id` is the chain id (`sid`) of a Yeep-style session, the `jti` of an access-token. */
export interface SessionEntry {
  id: string;
  info: SessionInfo;
}

/**
 * Sessions an account lists at most (those ending last): a client that signs in again and again
 * without signing out cannot grow the index without bound. Sessions past it still work until
 * they end, and an account-wide revocation (new password, admin revoke) ends them too.
 */
export const MAX_LISTED_SESSIONS = 200;

/** The record for a new session from this request. */
export function sessionInfo(accountId: string, kind: SessionKind, ctx: RequestContext, nowMs: number, deviceId?: string): SessionInfo {
  return { accountId, kind, createdAt: nowMs, lastUsedAt: nowMs, ip: ctx.ip, userAgent: ctx.userAgent, ...(deviceId ? { deviceId } : {}) };
}

export class SessionRecords {
  constructor(private readonly store: EphemeralStore) {}

  /**
   * The chain's record, or null when the chain ended. A chain started before records existed has
   * the value "1": alive, with no record (`info` null); it is in no list.
   */
  async chain(sid: string): Promise<{ info: SessionInfo | null } | null> {
    const raw = await this.store.get(chainKey(sid));
    return raw === null ? null : { info: parse(raw) };
  }

  /** A new chain: its key (alive while it is) and its place in the account's list, sent at once. */
  startChain(sid: string, info: SessionInfo, endsAtMs: number, nowMs: number): Promise<unknown> {
    return Promise.all([this.store.set(chainKey(sid), JSON.stringify(info), endsAtMs - nowMs), this.index(info.accountId, chainMember(sid), endsAtMs, nowMs)]);
  }

  /** A refresh: the chain's last use; a chain ended meanwhile is not brought back (false). */
  touchChain(sid: string, info: SessionInfo, endsAtMs: number, nowMs: number): Promise<boolean> {
    return this.store.replace(chainKey(sid), JSON.stringify(info), endsAtMs - nowMs);
  }

  /** Ends the chain; of concurrent calls, one gets its record (the one to audit). */
  async takeChain(accountId: string, sid: string): Promise<{ info: SessionInfo | null } | null> {
    const [raw] = await Promise.all([this.store.take(chainKey(sid)), this.store.removeMember(indexKey(accountId), chainMember(sid))]);
    return raw === null ? null : { info: parse(raw) };
  }

  /** A new access-token: its record (which must exist for the token to be accepted) and its place in the list. */
  startAccessToken(jti: string, info: SessionInfo, endsAtMs: number, nowMs: number): Promise<unknown> {
    return Promise.all([this.store.set(accessKey(jti), JSON.stringify(info), endsAtMs - nowMs), this.index(info.accountId, accessMember(jti), endsAtMs, nowMs)]);
  }

  /** Whether the access-token `jti` of the account still lives (not revoked). */
  async accessTokenLive(accountId: string, jti: string): Promise<boolean> {
    return parse(await this.store.get(accessKey(jti)))?.accountId === accountId;
  }

  /** The account's live sessions, as indexed (their records read in one round trip). */
  async list(accountId: string, nowMs: number): Promise<SessionEntry[]> {
    const members = await this.store.members(indexKey(accountId), nowMs);
    const read = await Promise.all(
      members.map(async (m): Promise<SessionEntry | null> => {
        const id = m.slice(2);
        const info = parse(await this.store.get(m.startsWith("a:") ? accessKey(id) : chainKey(id)));
        return info?.accountId === accountId ? { id, info } : null;
      }),
    );
    return read.filter((e): e is SessionEntry => e !== null);
  }

  /** The account's session `id` (either kind), or null: another account's id finds nothing. */
  async find(accountId: string, id: string): Promise<SessionEntry | null> {
    const [chain, access] = await Promise.all([this.store.get(chainKey(id)), this.store.get(accessKey(id))]);
    const info = [parse(chain), parse(access)].find((i) => i?.accountId === accountId);
    return info ? { id, info } : null;
  }

  /** Ends the session (every instance reads these keys on each use, so it ends there at once). */
  async end(entry: SessionEntry): Promise<void> {
    const { id, info } = entry;
    const access = info.kind === "access-token";
    await Promise.all([
      this.store.delete(access ? accessKey(id) : chainKey(id)),
      this.store.removeMember(indexKey(info.accountId), access ? accessMember(id) : chainMember(id)),
    ]);
  }

  /** Out of the account's list (a chain ended by sign-out). */
  unindexChain(accountId: string, sid: string): Promise<void> {
    return this.store.removeMember(indexKey(accountId), chainMember(sid));
  }

  private index(accountId: string, member: string, endsAtMs: number, nowMs: number): Promise<void> {
    return this.store.addMember(indexKey(accountId), member, endsAtMs, nowMs, MAX_LISTED_SESSIONS);
  }
}

function parse(raw: string | null): SessionInfo | null {
  if (!raw || raw[0] !== "{") return null;
  try {
    return JSON.parse(raw) as SessionInfo;
  } catch {
    return null;
  }
}

/** Exists while the chain lives (until the session's end); deleted when the chain ends. */
export const chainKey = (sid: string) => `session-chain:${sid}`;
const accessKey = (jti: string) => `access-token:${jti}`;
const indexKey = (accountId: string) => `sessions:${accountId}`;
const chainMember = (sid: string) => `c:${sid}`;
const accessMember = (jti: string) => `a:${jti}`;
