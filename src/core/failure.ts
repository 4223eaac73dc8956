// Expected outcomes of the core are values, not exceptions: one table of
// failure reasons, which each transport maps to its own codes in one place.
export const FailureReason = {
  INVALID_REQUEST: "INVALID_REQUEST",
  NOT_AUTHENTICATED: "NOT_AUTHENTICATED",
  INVALID_CREDENTIALS: "INVALID_CREDENTIALS",
  ACCOUNT_DEACTIVATED: "ACCOUNT_DEACTIVATED",
  ACCOUNT_NOT_FOUND: "ACCOUNT_NOT_FOUND",
  FORBIDDEN: "FORBIDDEN",
  INVALID_TOKEN: "INVALID_TOKEN",
  INVALID_ENROLLMENT_CODE: "INVALID_ENROLLMENT_CODE",
  FACTOR_ALREADY_EXISTS: "FACTOR_ALREADY_EXISTS",
  FACTOR_NOT_FOUND: "FACTOR_NOT_FOUND",
  SECOND_FACTOR_REQUIRED: "SECOND_FACTOR_REQUIRED",
  INVALID_SECOND_FACTOR: "INVALID_SECOND_FACTOR",
} as const;
export type FailureReason = (typeof FailureReason)[keyof typeof FailureReason];

export interface FieldViolation {
  /** Dotted path in the request's JSON, e.g. "secondaryAuthFactor.type". */
  field: string;
  description: string;
}

export interface Failure {
  reason: FailureReason;
  message: string;
  applicableAuthFactorTypes?: string[];
  fieldViolations?: FieldViolation[];
}

export type Result<T> = { ok: true; value: T } | { ok: false; failure: Failure };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });

const defaultMessages: Record<FailureReason, string> = {
  INVALID_REQUEST: "Invalid request body",
  NOT_AUTHENTICATED: "Authentication required",
  INVALID_CREDENTIALS: "Invalid username or password",
  ACCOUNT_DEACTIVATED: "User account is deactivated",
  ACCOUNT_NOT_FOUND: "User not found",
  FORBIDDEN: "Permission denied",
  INVALID_TOKEN: "Invalid or expired token",
  INVALID_ENROLLMENT_CODE: "Invalid TOTP token",
  FACTOR_ALREADY_EXISTS: "Authentication factor already exists",
  FACTOR_NOT_FOUND: "Authentication factor not found",
  SECOND_FACTOR_REQUIRED: "Secondary authentication factor required",
  INVALID_SECOND_FACTOR: "Invalid secondary authentication factor",
};

export function fail<T = never>(
  reason: FailureReason,
  extra: Partial<Omit<Failure, "reason">> = {},
): Result<T> {
  return { ok: false, failure: { reason, message: defaultMessages[reason], ...extra } };
}

export function isFailure(value: unknown): value is Failure {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Failure).reason === "string" &&
    (value as Failure).reason in defaultMessages
  );
}
