// The Cosync envelope, rendered here and nowhere else: success bodies are the result itself
// (never with a `code` key: the JS client treats any body with `code` as an error); errors are
// HTTP 400 (500 for internal ones) with {code, message}, the Cosync numbers in one table.
import type { Failure, FailureReason } from "../../core/failure.js";

const COSYNC_CODES: Record<FailureReason, number> = {
  INVALID_REQUEST: 403, // 602 when a field is present but invalid (see cosyncFailure)
  NOT_AUTHENTICATED: 405,
  INVALID_CREDENTIALS: 600,
  ACCOUNT_DEACTIVATED: 404,
  ACCOUNT_NOT_FOUND: 603,
  FORBIDDEN: 405,
  INVALID_TOKEN: 613,
  INVALID_ENROLLMENT_CODE: 602,
  FACTOR_ALREADY_EXISTS: 602,
  FACTOR_NOT_FOUND: 602,
  SECOND_FACTOR_REQUIRED: 600,
  INVALID_SECOND_FACTOR: 600,
  INVALID_APP_TOKEN: 400,
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
};

// Retryable refusals keep their own HTTP status and say when to retry.
const HTTP_STATUS: Partial<Record<FailureReason, number>> = { SMS_UNAVAILABLE: 500, TOO_MANY_ATTEMPTS: 429, BUSY: 503, SERVICE_UNAVAILABLE: 503 };

export interface CosyncAnswer {
  status: number;
  body: { code: number; message: string };
  headers: Record<string, string>;
}

export function cosyncFailure(f: Failure): CosyncAnswer {
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

export const cosyncInvalidData = (message: string): CosyncAnswer => ({ status: 400, body: { code: 602, message }, headers: {} });
export const COSYNC_TOO_LARGE: CosyncAnswer = { status: 413, body: { code: 602, message: "Request body too large" }, headers: { connection: "close" } };
export const COSYNC_INTERNAL: CosyncAnswer = { status: 500, body: { code: 500, message: "Internal server error" }, headers: {} };
export const COSYNC_METHOD_NOT_ALLOWED: CosyncAnswer = { status: 405, body: { code: 403, message: "Method not allowed" }, headers: {} };
