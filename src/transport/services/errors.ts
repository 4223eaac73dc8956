// Core failures as Connect errors: one table of Connect codes, and an ErrorDetail that
// carries the stable reason to typed clients. The Failure rides along as `cause`, so the
// legacy envelopes render exactly what the core decided.
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorDetailSchema } from "../../../gen/signin/session/v1/error_pb.js";
import { fail, isFailure, type Failure, type FailureReason, type Result } from "../../core/failure.js";

const CONNECT_CODES: Record<FailureReason, Code> = {
  INVALID_REQUEST: Code.InvalidArgument,
  NOT_AUTHENTICATED: Code.Unauthenticated,
  INVALID_CREDENTIALS: Code.Unauthenticated,
  ACCOUNT_DEACTIVATED: Code.PermissionDenied,
  ACCOUNT_NOT_FOUND: Code.NotFound,
  SESSION_NOT_FOUND: Code.NotFound,
  FORBIDDEN: Code.PermissionDenied,
  INVALID_TOKEN: Code.Unauthenticated,
  INVALID_ENROLLMENT_CODE: Code.InvalidArgument,
  FACTOR_ALREADY_EXISTS: Code.AlreadyExists,
  FACTOR_NOT_FOUND: Code.FailedPrecondition,
  SECOND_FACTOR_REQUIRED: Code.Unauthenticated,
  INVALID_SECOND_FACTOR: Code.Unauthenticated,
  INVALID_APP_TOKEN: Code.Unauthenticated,
  APP_NOT_FOUND: Code.NotFound,
  APP_ALREADY_EXISTS: Code.AlreadyExists,
  LOGIN_TAKEN: Code.AlreadyExists,
  APP_DELETED: Code.FailedPrecondition,
  APP_SUSPENDED: Code.FailedPrecondition,
  INVALID_METADATA: Code.FailedPrecondition,
  INVALID_LOGIN_TOKEN: Code.Unauthenticated,
  APP_HAS_NO_GOOGLE_TWO_FACTOR: Code.FailedPrecondition,
  APP_HAS_NO_PHONE_TWO_FACTOR: Code.FailedPrecondition,
  PHONE_NOT_VERIFIED: Code.FailedPrecondition,
  INVALID_CODE: Code.InvalidArgument,
  SMS_UNAVAILABLE: Code.Unavailable,
  TOO_MANY_ATTEMPTS: Code.ResourceExhausted,
  BUSY: Code.Unavailable,
  SERVICE_UNAVAILABLE: Code.Unavailable,
  STEP_UP_REQUIRED: Code.PermissionDenied,
};

export function toConnectError(failure: Failure): ConnectError {
  const detail = {
    desc: ErrorDetailSchema,
    value: {
      reason: failure.reason,
      applicableAuthFactorTypes: failure.applicableAuthFactorTypes ?? [],
      fieldViolations: failure.fieldViolations ?? [],
      retryAfterSeconds: failure.retryAfterSeconds ?? 0,
    },
  };
  const metadata = failure.retryAfterSeconds ? { "retry-after": String(failure.retryAfterSeconds) } : undefined;
  return new ConnectError(failure.message, CONNECT_CODES[failure.reason], metadata, [detail], failure);
}

/** The value of a successful result; a failed one is thrown as its Connect error. */
export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw toConnectError(result.failure);
  return result.value;
}

/** Throws the Connect error of a failure (for checks made in the service layer). */
export function reject(reason: FailureReason, extra: Partial<Omit<Failure, "reason">> = {}): never {
  return unwrap(fail(reason, extra)) as never;
}

/** The core failure behind an error thrown by a service implementation, if any. */
export function failureThrown(err: unknown): Failure | null {
  return err instanceof ConnectError && isFailure(err.cause) ? err.cause : null;
}
