// The session list (issue 16): an account's live sessions, Yeep-style chains and Cosync
// access-tokens alike, newest first, with where they were used (user agent parsed into browser
// and OS by bowser), whether their device is remembered, and which one asks; ending one or all
// others. Used by the account's own user (SessionService) and by administrators (AdminService).
import Bowser from "bowser";
import type { Audit } from "../audit.js";
import type { Clock } from "../clock.js";
import { fail, ok, type Result } from "../failure.js";
import type { RequestContext } from "../request-context.js";
import { ends, type Revocations } from "./revocations.js";
import type { SessionEntry, SessionInfo, SessionRecords } from "./session-records.js";

export interface ListedSession extends SessionInfo {
  /** The chain id (`sid`) of a Yeep-style session, the `jti` of an access-token: what revoke names. */
  id: string;
  /** e.g. "Chrome 131"; "" when the user agent says nothing known. */
  browser: string;
  /** e.g. "macOS"; "" when unknown. */
  os: string;
  /** Its device skips the second factor (remember this device). */
  rememberedDevice: boolean;
  /** The session the request presented. */
  current: boolean;
}

/** What the list asks of remembered devices (core/devices/remembered-devices.ts). */
export interface RememberedDeviceLookup {
  isRemembered(accountId: string, deviceId: string): Promise<boolean>;
  forget(accountId: string, deviceId: string): Promise<void>;
}

/** Who ends a session, for the audit trail. */
export type RevokedBy = "user" | "admin";

export class SessionList {
  constructor(
    private readonly records: SessionRecords,
    private readonly revocations: Revocations,
    private readonly audit: Audit,
    private readonly clock: Clock,
    private readonly remembered: RememberedDeviceLookup | null,
  ) {}

  /** The account's live sessions, newest first; `current` marks the caller's. */
  async list(accountId: string, current?: string): Promise<ListedSession[]> {
    const live = await this.live(accountId);
    const remembered = await Promise.all(live.map((e) => (e.info.deviceId && this.remembered ? this.remembered.isRemembered(accountId, e.info.deviceId) : false)));
    return live
      .map((e, i) => ({ ...e.info, id: e.id, ...parseUserAgent(e.info.userAgent), rememberedDevice: remembered[i]!, current: e.id === current }))
      .sort((a, b) => b.createdAt - a.createdAt || b.lastUsedAt - a.lastUsedAt || a.id.localeCompare(b.id));
  }

  /**
   * Ends one session of the account (on every instance at once: each use reads its record), and
   * its device's "remember this device"; SESSION_NOT_FOUND for an id that is not a live session of
   * this account.
   */
  async revoke(ctx: RequestContext, accountId: string, id: string, by: RevokedBy): Promise<Result<void>> {
    const entry = await this.records.find(accountId, id);
    if (!entry || this.revoked(entry, await this.revocations.revocation(accountId))) return fail("SESSION_NOT_FOUND");
    await this.end(ctx, entry, by);
    return ok(undefined);
  }

  /** Ends every live session of the account but `current` (the caller's); how many ended. */
  async revokeOthers(ctx: RequestContext, accountId: string, current: string): Promise<number> {
    const live = await this.live(accountId);
    const mine = live.find((e) => e.id === current)?.info.deviceId;
    const others = live.filter((e) => e.id !== current);
    // The caller's own device stays remembered, even where another session of it ends.
    await Promise.all(others.map((e) => this.end(ctx, e, "user", e.info.deviceId !== mine)));
    return others.length;
  }

  private async end(ctx: RequestContext, entry: SessionEntry, by: RevokedBy, forgetDevice = true): Promise<void> {
    const { deviceId, accountId, kind } = entry.info;
    await Promise.all([this.records.end(entry), deviceId && forgetDevice ? this.remembered?.forget(accountId, deviceId) : undefined]);
    this.audit.record(ctx, { event: "session.revoked", accountId, reason: `${by}_${kind}` });
  }

  /** Indexed sessions not ended by the account's revocation stamp (new password, deactivation...). */
  private async live(accountId: string): Promise<SessionEntry[]> {
    const [entries, revocation] = await Promise.all([this.records.list(accountId, this.clock.now()), this.revocations.revocation(accountId)]);
    return entries.filter((e) => !this.revoked(e, revocation));
  }

  private revoked(e: SessionEntry, revocation: Awaited<ReturnType<Revocations["revocation"]>>): boolean {
    return ends(revocation, e.info.createdAt, e.id);
  }
}

/** Browser (name and major version) and OS from a user agent; "" for what it does not tell. */
export function parseUserAgent(userAgent: string): { browser: string; os: string } {
  if (!userAgent) return { browser: "", os: "" };
  const parsed = Bowser.parse(userAgent);
  const major = parsed.browser.version?.split(".")[0];
  const browser = parsed.browser.name ? `${parsed.browser.name}${major ? ` ${major}` : ""}` : "";
  return { browser, os: parsed.os.name ?? "" };
}
