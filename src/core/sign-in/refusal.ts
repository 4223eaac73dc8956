// What a credential check reports when it says no: the failure the caller gets and the audit
// event with its reason. Checks report; only the sign-in flow (sign-in.ts) records them.
import type { AuditEvent } from "../audit.js";
import type { Failure } from "../failure.js";

export interface Refusal {
  failure: Failure;
  event: Extract<AuditEvent["event"], "sign_in.failure" | "sign_in.blocked" | "sign_in.busy" | "second_factor.failure" | "login_token.invalid">;
  /** e.g. "wrong_password", "replayed", or the limiter that refused; the failure's reason when absent. */
  reason?: string;
  accountId?: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

export const passed = <T>(value: T): Checked<T> => ({ ok: true, value });
export const refusal = (failure: Failure, event: Refusal["event"], reason?: string, accountId?: string): Refusal => ({ failure, event, reason, accountId });
export const refused = (failure: Failure, event: Refusal["event"], reason?: string, accountId?: string): Checked<never> => ({
  ok: false,
  refusal: refusal(failure, event, reason, accountId),
});
