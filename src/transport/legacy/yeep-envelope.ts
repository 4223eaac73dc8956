// The Yeep envelope, rendered here and nowhere else: `{ok: true, ...}` or
// `{ok: false, error: {code, message, ...}}`, with the Yeep error numbers in one table.
import { Code, ConnectError } from "@connectrpc/connect";
import type { Failure, FailureReason } from "../../core/failure.js";
import type { Envelope } from "./pipeline.js";

const YEEP_CODES: Record<FailureReason, number> = {
  INVALID_REQUEST: 400,
  NOT_AUTHENTICATED: 10000,
  ACCOUNT_NOT_FOUND: 10001,
  SESSION_NOT_FOUND: 10037, // ours: session.revoke of a session that ended or is not the caller's
  INVALID_CREDENTIALS: 10002,
  FORBIDDEN: 10012,
  ACCOUNT_DEACTIVATED: 10022,
  INVALID_TOKEN: 10029,
  INVALID_ENROLLMENT_CODE: 10031,
  FACTOR_ALREADY_EXISTS: 10032,
  FACTOR_NOT_FOUND: 10033,
  SECOND_FACTOR_REQUIRED: 10034,
  INVALID_SECOND_FACTOR: 10035,
  // Reasons of the Cosync-style surface, should the default app reach them.
  INVALID_APP_TOKEN: 403,
  APP_NOT_FOUND: 403, // this and the next two: admin API only, never reached here
  APP_ALREADY_EXISTS: 400,
  LOGIN_TAKEN: 400,
  APP_DELETED: 403,
  APP_SUSPENDED: 403,
  INVALID_METADATA: 400,
  INVALID_LOGIN_TOKEN: 10029,
  APP_HAS_NO_GOOGLE_TWO_FACTOR: 403,
  APP_HAS_NO_PHONE_TWO_FACTOR: 403,
  PHONE_NOT_VERIFIED: 403,
  INVALID_CODE: 10031,
  SMS_UNAVAILABLE: 503,
  TOO_MANY_ATTEMPTS: 10429,
  BUSY: 10503,
  SERVICE_UNAVAILABLE: 10503,
  STEP_UP_REQUIRED: 10036, // ours: sign in again (with the second factor) to change an active factor
};

interface YeepError {
  code: number;
  message: string;
  details?: Array<{ message: string; path: string[] }>;
  applicableAuthFactorTypes?: string[];
  /** Seconds to wait before retrying (rate limits, busy, unavailable). */
  retryAfter?: number;
}

const yeepOk = (body: object) => ({ ok: true, ...body });

const yeepError = (error: YeepError) => ({ ok: false, error });

function yeepFailure(failure: Failure) {
  const error: YeepError = { code: YEEP_CODES[failure.reason], message: failure.message };
  if (failure.fieldViolations) {
    error.details = failure.fieldViolations.map((v) => ({ message: v.description, path: v.field.split(".") }));
  }
  if (failure.applicableAuthFactorTypes) error.applicableAuthFactorTypes = failure.applicableAuthFactorTypes;
  if (failure.retryAfterSeconds) error.retryAfter = failure.retryAfterSeconds;
  return yeepError(error);
}

/** Invalid request body: the answer for anything that is not a well-formed request. */
function yeepInvalidBody(details: Array<{ message: string; path: string[] }>) {
  return yeepError({ code: 400, message: "Invalid request body", details });
}

/** Errors raised by the RPC layer itself rather than the core (e.g. a cancelled request). */
function yeepFromConnectError(err: ConnectError) {
  if (err.code === Code.InvalidArgument) return yeepInvalidBody([{ message: err.rawMessage, path: [] }]);
  return yeepError({ code: 500, message: "Internal server error" });
}

const YEEP_TOO_LARGE = yeepError({ code: 413, message: "Request body too large" });
export const YEEP_NOT_FOUND = yeepError({ code: 404, message: "Resource not found" });
const YEEP_METHOD_NOT_ALLOWED = yeepError({ code: 405, message: "Method not allowed; use POST" });
const YEEP_INTERNAL = yeepError({ code: 500, message: "Internal server error" });

// Yeep clients read the outcome from the body, so everything is HTTP 200 but a wrong HTTP method.
export const yeepEnvelope: Envelope = {
  allowForm: false,
  sessionCookie: true,
  ok: ({ json, setCookie }) => ({ status: 200, body: yeepOk(json), headers: setCookie.length ? { "set-cookie": setCookie } : undefined }),
  failure: (f) => ({ status: 200, body: yeepFailure(f) }),
  invalidBody: (message, path) => ({ status: 200, body: yeepInvalidBody([{ message, path }]) }),
  fromConnectError: (err) => ({ status: 200, body: yeepFromConnectError(err) }),
  methodNotAllowed: { status: 405, body: YEEP_METHOD_NOT_ALLOWED, headers: { allow: "POST" } },
  tooLarge: { status: 200, body: YEEP_TOO_LARGE, headers: { connection: "close" } },
  internal: { status: 200, body: YEEP_INTERNAL },
};
