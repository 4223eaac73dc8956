// What an operator may say about an account (admin API, bootstrap file, import): the email and
// password rules, decided here once so an account made any of these ways meets the same ones.
import type { FieldViolation } from "../failure.js";
import { passwordProblem } from "../password/policy.js";

// Deliberately loose (RFC 5322 allows far more than anyone types): one "@", no spaces, a dot in the
// domain; the point is to catch a name or a typo put in the wrong field, not to verify delivery.
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
// RFC 5321's limit on a forward path.
const MAX_EMAIL_LENGTH = 254;

/** Follows the field's name, as the password rules do. */
export const EMAIL_RULE = "is not an email address";

export function isEmail(value: string): boolean {
  return value.length <= MAX_EMAIL_LENGTH && EMAIL.test(value);
}

export function emailViolation(email: string, field = "email"): FieldViolation | null {
  return isEmail(email) ? null : { field, description: `${field} ${EMAIL_RULE}`, kind: "invalid" };
}

/** The password rule of core/password/policy.ts as a violation of `field`. */
export function passwordViolation(password: string, field = "password"): FieldViolation | null {
  const problem = passwordProblem(password);
  return problem && { field, description: `${field} ${problem.rule}`, kind: problem.kind };
}
