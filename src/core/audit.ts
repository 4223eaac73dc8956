// Audit events: every sign-in decision, as one JSON line each (ASVS 7.1 / 16.3), with who
// asked from where; never a password, code, token or secret.
import type { Logger } from "./logger.js";

/** Who is asking: filled in by the transport for every request. */
export interface RequestContext {
  surface: "yeep" | "cosync" | "rpc";
  ip: string;
  userAgent: string;
  requestId: string;
}

export interface AuditEvent {
  event:
    | "sign_in.success"
    | "sign_in.failure"
    | "sign_in.blocked"
    | "sign_in.busy"
    | "second_factor.required"
    | "second_factor.failure"
    | "login_token.invalid"
    | "session_token.invalid"
    | "sms.sent"
    | "sms.failed";
  appId?: string;
  accountId?: string;
  /** Why, e.g. "wrong_password", "unknown_account", "replayed", or the limiter that refused. */
  reason?: string;
}

export interface Audit {
  record(ctx: RequestContext, e: AuditEvent): void;
}

export function loggerAudit(log: Logger): Audit {
  return { record: (ctx, e) => log.info({ audit: true, ...e, ...ctx }, e.event) };
}

export const UNKNOWN_CONTEXT: RequestContext = { surface: "rpc", ip: "unknown", userAgent: "", requestId: "" };
