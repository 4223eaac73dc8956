// The Cosync envelope, rendered here only: a success body is the result alone (a `code` key would make the
// JS client see an error); errors are {code, message} with HTTP 400 (500 internal), the codes in one table.
import type { Failure, FailureReason } from "../../core/failure.js";
import type { Answer, Envelope } from "./pipeline.js";

const COSYNC_CODES: Record<FailureReason, number> = {
  INVALID_REQUEST: 403, // 602 when a field is present but invalid (see cosyncFailure)
  NOT_AUTHENTICATED: 405,
  INVALID_CREDENTIALS: 600,
  ACCOUNT_DEACTIVATED: 404,
  ACCOUNT_NOT_FOUND: 603,
  SESSION_NOT_FOUND: 602, // session methods answer in the Yeep envelope: never reached here
  FORBIDDEN: 405,
  INVALID_TOKEN: 613,
  INVALID_ENROLLMENT_CODE: 602,
  FACTOR_ALREADY_EXISTS: 602,
  FACTOR_NOT_FOUND: 602,
  SECOND_FACTOR_REQUIRED: 600,
  INVALID_SECOND_FACTOR: 600,
  INVALID_APP_TOKEN: 400,
  APP_NOT_FOUND: 400, // this and the next two: admin API only, never reached here
  APP_ALREADY_EXISTS: 602,
  LOGIN_TAKEN: 602,
  APP_DELETED: 401,
  APP_SUSPENDED: 402,
  INVALID_METADATA: 604,
  INVALID_LOGIN_TOKEN: 613,
  APP_HAS_NO_GOOGLE_TWO_FACTOR: 408,
  APP_HAS_NO_PHONE_TWO_FACTOR: 409,
  PHONE_NOT_VERIFIED: 410,
  INVALID_CODE: 602,
  SMS_UNAVAILABLE: 500,
  TOO_MANY_ATTEMPTS: 429,
  BUSY: 503,
  SERVICE_UNAVAILABLE: 503,
  STEP_UP_REQUIRED: 614, // ours: log in again (with the second factor) to change an active factor
};

// Retryable refusals keep their own HTTP status and say when to retry.
const HTTP_STATUS: Partial<Record<FailureReason, number>> = { SMS_UNAVAILABLE: 500, TOO_MANY_ATTEMPTS: 429, BUSY: 503, SERVICE_UNAVAILABLE: 503 };

function cosyncFailure(f: Failure): Answer {
  let code = COSYNC_CODES[f.reason];
  let message = f.message;
  if (f.reason === "INVALID_REQUEST" && f.fieldViolations?.length) {
    const missing = f.fieldViolations.find((v) => v.kind === "missing");
    const first = missing ?? f.fieldViolations[0]!;
    code = missing ? 403 : 602;
    message = first.description;
  }
  const headers: Record<string, string> = f.retryAfterSeconds ? { "retry-after": String(f.retryAfterSeconds) } : {};
  return { status: HTTP_STATUS[f.reason] ?? 400, body: { code, message }, headers };
}

const cosyncInvalidData = (message: string): Answer => ({ status: 400, body: { code: 602, message }, headers: {} });
const COSYNC_TOO_LARGE: Answer = { status: 413, body: { code: 602, message: "Request body too large" }, headers: { connection: "close" } };
const COSYNC_INTERNAL: Answer = { status: 500, body: { code: 500, message: "Internal server error" }, headers: {} };
const COSYNC_METHOD_NOT_ALLOWED: Answer = { status: 405, body: { code: 403, message: "Method not allowed" }, headers: {} };

// Cosync clients carry their tokens in the body, never in cookies: the result goes out alone.
export const cosyncEnvelope: Envelope = {
  allowForm: true,
  sessionCookie: false, // tokens travel in headers, which other origins cannot set without a preflight
  ok: ({ json }) => ({ status: 200, body: json }),
  failure: cosyncFailure,
  invalidBody: cosyncInvalidData,
  methodNotAllowed: COSYNC_METHOD_NOT_ALLOWED,
  tooLarge: COSYNC_TOO_LARGE,
  internal: COSYNC_INTERNAL,
};
