// How the admin core refuses input: one INVALID_REQUEST failure that lists every field violation.
// Its message is the first violation's, as the admin API answered one problem at a time.
import { fail, type FieldViolation, type Result } from "../failure.js";

export function invalid(violations: FieldViolation[]): Result<never> {
  return fail("INVALID_REQUEST", { message: violations[0]!.description, fieldViolations: violations });
}

export function required(field: string): FieldViolation {
  return { field, description: `${field} is required`, kind: "missing" };
}
