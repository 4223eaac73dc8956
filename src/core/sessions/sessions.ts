// Server-side sessions behind session tokens: created at sign-in (30 days), rotated on
// refresh (the old token stops working; the session keeps its original end), deleted on sign-out.
// A sign-in starts a rotation chain, alive while its key exists: a refresh token used twice
// (a rotated token presented again: stolen, or raced) ends the whole chain, as the OAuth 2.0
// Security BCP (RFC 9700 4.14.2) asks, so whoever holds its current token is out too.
// The chain's key holds its record for the session list (session-records.ts): kind, sign-in and
// last use, IP, user agent, device; ending the chain (sign-out, reuse, revoke) ends the session.
import { randomBytes } from "node:crypto";
import type { Account, AccountStore } from "../accounts/account.js";
import type { Audit } from "../audit.js";
import type { Clock } from "../clock.js";
import type { EphemeralStore } from "../ephemeral.js";
import type { SessionClaims, SessionTokens, UserClaims } from "../tokens/session-token.js";
import type { RequestContext } from "../request-context.js";
import { ends, type Revocations } from "./revocations.js";
import { sessionInfo, type SessionInfo, type SessionRecords } from "./session-records.js";

export interface Projection {
  profile: boolean;
  permissions: boolean;
}

interface SessionRecord {
  accountId: string;
  projection: Projection;
  /** Sign-in time (ms): a revocation of all the account's sessions after it ends this one. */
  startedAt: number;
  /** Absolute end of the session (ms); rotation does not extend it. */
  endsAt: number;
  /** The first session id of the rotation chain (the token's `sid`): what a revocation that spares the caller names. */
  chain: string;
  /** Whether the sign-in passed a second factor (with `startedAt`, the proof a step-up asks for). */
  secondFactor?: boolean;
}

export interface IssuedSession {
  accountId: string;
  token: string;
  /** When the token expires (refresh before). */
  expiresAt: Date;
  /** When the session ends (cookie lifetime). */
  endsAt: Date;
}

/** How a session is signed in: its kind and where from (for the session list), and the proof a step-up asks for. */
export interface SessionStart {
  secondFactor: boolean;
  kind: "cookie" | "bearer";
  ctx: RequestContext;
  /** The device credential's id, when the sign-in has one. */
  deviceId?: string;
}

/** Who presents a token, and where (the method's name): a token refused is audited with both. */
export interface Presenter {
  ctx: RequestContext;
  where: string;
}

export interface AuthenticatedSession {
  accountId: string;
  sessionId: string;
  /** Stable across refreshes (see SessionRecord.chain). */
  chain: string;
  /** How the session was signed in: when (ms), and whether a second factor was passed. */
  signedInAt: number;
  secondFactor: boolean;
}

/** The caller behind a session token: the account and its session. */
export interface Caller {
  account: Account;
  session: AuthenticatedSession;
}

export class Sessions {
  constructor(
    private readonly store: EphemeralStore,
    private readonly accounts: AccountStore,
    private readonly tokens: SessionTokens,
    private readonly clock: Clock,
    private readonly sessionTtlMs: number,
    private readonly revocations: Revocations,
    private readonly audit: Audit,
    /** The app whose accounts have sessions (the Yeep-style API's). */
    private readonly appId: string,
    private readonly records: SessionRecords,
  ) {}

  /** A new session, issued when the returned function is called (its writes go out at once). */
  start(account: Account, projection: Projection, how: SessionStart): () => Promise<IssuedSession> {
    const now = this.clock.now();
    const record = { accountId: account.id, projection, startedAt: now, endsAt: now + this.sessionTtlMs, secondFactor: how.secondFactor };
    const info = sessionInfo(account.id, how.kind, how.ctx, now, how.deviceId);
    return () => this.issue(account, record, info);
  }

  /** A valid, unexpired token whose session still exists; null otherwise. */
  async authenticate(token: string): Promise<AuthenticatedSession | null> {
    const claims = await this.tokens.verify(token);
    return claims && this.live(claims);
  }

  /** The live, not deactivated account behind a token; null otherwise. */
  async account(token: string, by: Presenter): Promise<Account | null> {
    return (await this.caller(token, by))?.account ?? null;
  }

  /** The live, not deactivated account behind a token, with its session; null otherwise. */
  async caller(token: string, by: Presenter): Promise<Caller | null> {
    const claims = await this.tokens.verify(token);
    // The account's (cached) read goes out with the session's, in the same round trip; a token
    // whose session is gone costs one cache read for nothing.
    const [session, account] = claims ? await Promise.all([this.live(claims), this.accounts.findById(claims.user.id)]) : [];
    return session && account && !account.deactivated ? { account, session } : this.refused(by);
  }

  /** The session behind genuine claims, unless it ended, its chain ended, or it was revoked. */
  private async live(claims: SessionClaims): Promise<AuthenticatedSession | null> {
    // One round trip: the session, its chain and the account's revocation time are read together.
    const [record, chainAlive, revocation] = await Promise.all([
      this.read(claims.jti),
      this.records.chain(claims.sid),
      this.revocations.revocation(claims.user.id),
    ]);
    if (!record || !chainAlive || record.accountId !== claims.user.id || record.chain !== claims.sid) return null;
    if (ends(revocation, record.startedAt, record.chain)) return null;
    return { accountId: record.accountId, sessionId: claims.jti, chain: record.chain, signedInAt: record.startedAt, secondFactor: record.secondFactor ?? false };
  }

  /**
   * Replaces the token's session with a new one; null (audited) when it was already used, ended or
   * revoked. A token already rotated ends its chain: refused, and so is the chain's current token.
   */
  async refresh(token: string, by: Presenter): Promise<IssuedSession | null> {
    const claims = await this.tokens.verify(token, { allowExpired: true });
    if (!claims) return this.refused(by);
    // take(): of concurrent refreshes of one token, only one gets the session; the others find
    // the chain alive without it, which is reuse (no grace: a legitimate client refreshes once at
    // a time, and a grace period would let a thief who refreshed first keep the chain). The chain
    // is read before the take, in the same batch: the one that takes the session has always seen
    // the chain alive (a reuse ends it only after a take came back empty), so exactly one wins.
    const [chain, raw] = await Promise.all([this.records.chain(claims.sid), this.store.take(key(claims.jti))]);
    if (!raw) return chain ? this.reused(claims, by) : this.refused(by);
    const rotated = chain ? await this.rotate(claims, JSON.parse(raw) as SessionRecord, chain.info, by) : null;
    if (rotated) return rotated;
    // Refused after its session was taken: the chain cannot go on (and this token's next try is no theft).
    if (chain) await this.records.takeChain(claims.user.id, claims.sid);
    return this.refused(by);
  }

  private async rotate(claims: SessionClaims, record: SessionRecord, info: SessionInfo | null, by: Presenter): Promise<IssuedSession | null> {
    if (record.accountId !== claims.user.id || record.chain !== claims.sid || record.endsAt <= this.clock.now()) return null;
    if (await this.revocations.revoked(record.accountId, record.startedAt, record.chain)) return null;
    const account = await this.accounts.findById(record.accountId);
    if (!account || account.deactivated) return null;
    // A chain ended meanwhile (reuse seen elsewhere) is not revived: the new token's `sid` names it.
    const now = this.clock.now();
    return this.issue(account, record, info && { ...info, lastUsedAt: now, ip: by.ctx.ip, userAgent: by.ctx.userAgent });
  }

  /**
   * A rotated token presented again: the chain ends (every token of it is refused, on every
   * instance), audited once with both IPs: the reuser's (the request's) and `lastIp`, the one that
   * last signed in or refreshed the chain. Of concurrent reuses, the one that ends the chain audits.
   */
  private async reused(claims: SessionClaims, by: Presenter): Promise<null> {
    const ended = await this.records.takeChain(claims.user.id, claims.sid);
    if (!ended) return this.refused(by);
    const lastIp = ended.info?.ip;
    this.audit.record(by.ctx, { event: "session.token_reuse", appId: this.appId, accountId: claims.user.id, reason: by.where, ...(lastIp ? { lastIp } : {}) });
    return null;
  }

  /** Ends the token's session and its chain; false (audited) when the token is not genuine. */
  async end(token: string, by: Presenter): Promise<boolean> {
    const claims = await this.tokens.verify(token, { allowExpired: true });
    if (!claims) {
      this.refused(by);
      return false;
    }
    await Promise.all([this.store.delete(key(claims.jti)), this.records.takeChain(claims.user.id, claims.sid)]);
    return true;
  }

  /**
   * A session for a new sign-in (its chain starts: its own id) or for a refresh (same chain), with
   * the chain's record (`info`; a chain from before records has none).
   */
  private async issue(account: Account, record: Omit<SessionRecord, "chain"> & { chain?: string }, info: SessionInfo | null): Promise<IssuedSession> {
    const sessionId = randomBytes(24).toString("base64url");
    const now = this.clock.now();
    const ttlMs = record.endsAt - now;
    const stored: SessionRecord = { ...record, chain: record.chain ?? sessionId };
    // The writes are sent before the first await, in the same round trip as what the caller sends
    // with them. Only a sign-in creates the chain's key: a refresh never brings an ended chain back.
    const chainWrite = !record.chain
      ? this.records.startChain(sessionId, info!, record.endsAt, now)
      : info && this.records.touchChain(stored.chain, info, record.endsAt, now);
    const [, , { token, expiresAt }] = await Promise.all([
      this.store.set(key(sessionId), JSON.stringify(stored), ttlMs),
      chainWrite,
      this.tokens.sign(userClaims(account, record.projection), sessionId, stored.chain),
    ]);
    return { accountId: account.id, token, expiresAt, endsAt: new Date(record.endsAt) };
  }

  /** A presented token not accepted: forged, expired, revoked or reused. */
  private refused(by: Presenter): null {
    this.audit.record(by.ctx, { event: "session_token.invalid", appId: this.appId, reason: by.where });
    return null;
  }

  private async read(sessionId: string): Promise<SessionRecord | null> {
    const raw = await this.store.get(key(sessionId));
    if (!raw) return null;
    const record = JSON.parse(raw) as SessionRecord;
    return record.endsAt > this.clock.now() ? record : null;
  }
}

const key = (sessionId: string) => `session:${sessionId}`;

function userClaims(account: Account, projection: Projection): UserClaims {
  const user: UserClaims = { id: account.id };
  if (projection.profile) {
    user.username = account.username;
    user.fullName = account.fullName;
    if (account.email) user.primaryEmail = account.email;
  }
  if (projection.permissions) user.permissions = account.permissions;
  return user;
}
