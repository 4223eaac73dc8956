// Audit events: every sign-in decision, as one JSON line each (ASVS 7.1 / 16.3), with who
// asked from where; never a password, code, token or secret.
import type { Clock } from "./clock.js";
import type { EphemeralStore } from "./ephemeral.js";
import type { Logger } from "./logger.js";
import type { RequestContext } from "./request-context.js";

export interface AuditEvent {
  event:
    | "sign_in.success"
    | "sign_in.failure"
    | "sign_in.blocked"
    | "sign_in.busy"
    // A success that presented no genuine device credential for its account (also notified, NOTIFY_WEBHOOK_URL).
    | "sign_in.new_device"
    | "second_factor.required"
    | "second_factor.failure"
    // The second factor skipped for a remembered device (reason: the factor), followed by the success.
    | "second_factor.remembered"
    | "login_token.invalid"
    | "session_token.invalid"
    // A rotated refresh token presented again: its chain ended (with both IPs: the request's and `lastIp`).
    | "session.token_reuse"
    // A session ended from the session list (reason: who and its kind, e.g. "user_cookie", "admin_access-token").
    | "session.revoked"
    | "sms.sent"
    | "sms.failed"
    // A recovery code spent as a second factor (with `left`), and a new set generated (old one replaced).
    | "recovery_code.used"
    | "recovery_codes.generated"
    // Passkeys registered and removed; an assertion whose signature counter did not move forward (a cloned authenticator).
    | "passkey.registered"
    | "passkey.removed"
    | "passkey.counter_not_increasing"
    // Admin API calls (core/admin/admin-audit.ts): one per call, and one per call refused for its token.
    | "admin.call"
    | "admin.denied";
  appId?: string;
  accountId?: string;
  /** Why, e.g. "wrong_password", "unknown_account", "replayed", or the limiter that refused. */
  reason?: string;
  /** session.token_reuse: the IP that last signed in or refreshed the chain (the request's is the reuser's). */
  lastIp?: string;
  /** recovery_code.used: the account's unused recovery codes after this one. */
  left?: number;
}

export interface Audit {
  record(ctx: RequestContext, e: AuditEvent): void;
}

export function loggerAudit(log: Logger): Audit {
  return { record: (ctx, e) => log.info({ audit: true, ...e, ...recorded(ctx) }, e.event) };
}

/** Who asked, as recorded: never the device credential the caller presented (a bearer secret). */
function recorded(ctx: RequestContext): RequestContext {
  if (ctx.deviceToken === undefined) return ctx;
  const { deviceToken: _, ...rest } = ctx;
  return rest;
}

export interface StoredAuditEvent extends AuditEvent, RequestContext {
  /** ISO time. */
  time: string;
}

const RECENT_PER_ACCOUNT = 100;
const RECENT_TTL_MS = 30 * 24 * 3600 * 1000;

/** Also keeps each account's last 100 events (30 days) in the shared store, for administrators. */
export class RecentAudit implements Audit {
  constructor(
    private readonly inner: Audit,
    private readonly store: EphemeralStore,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  record(ctx: RequestContext, e: AuditEvent): void {
    this.inner.record(ctx, e);
    if (!e.accountId) return;
    const stored: StoredAuditEvent = { time: new Date(this.clock.now()).toISOString(), ...e, ...recorded(ctx) };
    // Not awaited: the decision is already logged; a store failure must not fail the request.
    this.store.pushCapped(recentKey(e.accountId), JSON.stringify(stored), RECENT_PER_ACCOUNT, RECENT_TTL_MS).catch((err: Error) =>
      this.log.warn({ err: err.message }, "could not keep the audit event for the account"),
    );
  }

  async recent(accountId: string): Promise<StoredAuditEvent[]> {
    return (await this.store.list(recentKey(accountId))).map((s) => JSON.parse(s) as StoredAuditEvent);
  }
}

const recentKey = (accountId: string) => `audit:${accountId}`;
