// Request shape checks shared by every surface (they all run the same service code):
// each problem is reported as a field violation of one INVALID_REQUEST failure.
import type { FieldViolation } from "../../core/failure.js";
import { reject } from "./errors.js";

export class RequestCheck {
  private readonly violations: FieldViolation[] = [];

  /** A non-empty string of at most `maxLength` characters. */
  text(field: string, value: string, maxLength: number): this {
    if (value === "") this.add(field, `"${field}" is required`, "missing");
    else if (value.length > maxLength) this.add(field, `"${field}" must be at most ${maxLength} characters`);
    return this;
  }

  that(field: string, valid: boolean, description: string, kind: FieldViolation["kind"] = "invalid"): this {
    if (!valid) this.add(field, description, kind);
    return this;
  }

  /** Throws the INVALID_REQUEST error when anything was wrong. */
  done(): void {
    if (this.violations.length > 0) reject("INVALID_REQUEST", { fieldViolations: this.violations });
  }

  private add(field: string, description: string, kind: FieldViolation["kind"] = "invalid") {
    this.violations.push({ field, description, kind });
  }
}
