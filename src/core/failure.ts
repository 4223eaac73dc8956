// Expected outcomes of the core are values, not exceptions: one table of
// failure reasons, which each transport maps to its own codes in one place.
export const FailureReason = {
  INVALID_REQUEST: "INVALID_REQUEST",
  NOT_AUTHENTICATED: "NOT_AUTHENTICATED",
  INVALID_CREDENTIALS: "INVALID_CREDENTIALS",
  ACCOUNT_DEACTIVATED: "ACCOUNT_DEACTIVATED",
  ACCOUNT_NOT_FOUND: "ACCOUNT_NOT_FOUND",
  SESSION_NOT_FOUND: "SESSION_NOT_FOUND",
  FORBIDDEN: "FORBIDDEN",
  INVALID_TOKEN: "INVALID_TOKEN",
  INVALID_ENROLLMENT_CODE: "INVALID_ENROLLMENT_CODE",
  FACTOR_ALREADY_EXISTS: "FACTOR_ALREADY_EXISTS",
  FACTOR_NOT_FOUND: "FACTOR_NOT_FOUND",
  SECOND_FACTOR_REQUIRED: "SECOND_FACTOR_REQUIRED",
  INVALID_SECOND_FACTOR: "INVALID_SECOND_FACTOR",
  INVALID_APP_TOKEN: "INVALID_APP_TOKEN",
  APP_NOT_FOUND: "APP_NOT_FOUND",
  APP_ALREADY_EXISTS: "APP_ALREADY_EXISTS",
  LOGIN_TAKEN: "LOGIN_TAKEN",
  APP_DELETED: "APP_DELETED",
  APP_SUSPENDED: "APP_SUSPENDED",
  INVALID_METADATA: "INVALID_METADATA",
  INVALID_LOGIN_TOKEN: "INVALID_LOGIN_TOKEN",
  APP_HAS_NO_GOOGLE_TWO_FACTOR: "APP_HAS_NO_GOOGLE_TWO_FACTOR",
  APP_HAS_NO_PHONE_TWO_FACTOR: "APP_HAS_NO_PHONE_TWO_FACTOR",
  PHONE_NOT_VERIFIED: "PHONE_NOT_VERIFIED",
  INVALID_CODE: "INVALID_CODE",
  SMS_UNAVAILABLE: "SMS_UNAVAILABLE",
  TOO_MANY_ATTEMPTS: "TOO_MANY_ATTEMPTS",
  BUSY: "BUSY",
  SERVICE_UNAVAILABLE: "SERVICE_UNAVAILABLE",
  STEP_UP_REQUIRED: "STEP_UP_REQUIRED",
} as const;
export type FailureReason = (typeof FailureReason)[keyof typeof FailureReason];

export interface FieldViolation {
  /** Dotted path in the request's JSON, e.g. "secondaryAuthFactor.type". */
  field: string;
  description: string;
  /** Absent, or present with a wrong value (Cosync tells 403 from 602 by this). */
  kind: "missing" | "invalid";
}

export interface Failure {
  reason: FailureReason;
  message: string;
  applicableAuthFactorTypes?: string[];
  fieldViolations?: FieldViolation[];
  /** For retryable refusals: when to try again. */
  retryAfterSeconds?: number;
}

export type Result<T> = { ok: true; value: T } | { ok: false; failure: Failure };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });

const defaultMessages: Record<FailureReason, string> = {
  INVALID_REQUEST: "Invalid request body",
  NOT_AUTHENTICATED: "Authentication required",
  INVALID_CREDENTIALS: "Invalid username or password",
  ACCOUNT_DEACTIVATED: "User account is deactivated",
  ACCOUNT_NOT_FOUND: "User not found",
  SESSION_NOT_FOUND: "Session not found (ended, or not yours)",
  FORBIDDEN: "Permission denied",
  INVALID_TOKEN: "Invalid or expired token",
  INVALID_ENROLLMENT_CODE: "Invalid TOTP token",
  FACTOR_ALREADY_EXISTS: "Authentication factor already exists",
  FACTOR_NOT_FOUND: "Authentication factor not found",
  SECOND_FACTOR_REQUIRED: "Secondary authentication factor required",
  INVALID_SECOND_FACTOR: "Invalid secondary authentication factor",
  INVALID_APP_TOKEN: "Invalid app token",
  APP_NOT_FOUND: "App not found",
  APP_ALREADY_EXISTS: "App already exists",
  LOGIN_TAKEN: "Username or email already used in this app",
  APP_DELETED: "App no longer exists",
  APP_SUSPENDED: "App is suspended",
  INVALID_METADATA: "Required user metadata is missing",
  INVALID_LOGIN_TOKEN: "Login token is invalid, expired or already used",
  APP_HAS_NO_GOOGLE_TWO_FACTOR: "App does not use Google two-factor verification",
  APP_HAS_NO_PHONE_TWO_FACTOR: "App does not use phone two-factor verification",
  PHONE_NOT_VERIFIED: "User has no verified phone number",
  INVALID_CODE: "Invalid or expired code",
  SMS_UNAVAILABLE: "The SMS code could not be sent; please try again",
  TOO_MANY_ATTEMPTS: "Too many attempts; please try again later",
  BUSY: "The service is busy; please try again",
  SERVICE_UNAVAILABLE: "The service is temporarily unavailable; please try again",
  STEP_UP_REQUIRED: "Changing an active second factor needs a recent sign-in with it; please sign in again",
};

/** The failure for `reason`, with its standard message unless `extra` names another. */
export function failureOf(reason: FailureReason, extra: Partial<Omit<Failure, "reason">> = {}): Failure {
  return { reason, message: defaultMessages[reason], ...extra };
}

export function fail<T = never>(reason: FailureReason, extra: Partial<Omit<Failure, "reason">> = {}): Result<T> {
  return { ok: false, failure: failureOf(reason, extra) };
}

export function isFailure(value: unknown): value is Failure {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Failure).reason === "string" &&
    (value as Failure).reason in defaultMessages
  );
}
