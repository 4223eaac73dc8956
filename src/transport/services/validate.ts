// Request shape checks shared by every surface (they all run the same service code):
// each problem is reported as a field violation of one INVALID_REQUEST failure.
import type { DescMessage, Message } from "@bufbuild/protobuf";
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

/** No string field of any request may be longer (each method's own caps are tighter). */
export const MAX_STRING_LENGTH = 16384;
// PostgreSQL refuses 0x00 in text, and a lone UTF-16 surrogate has no UTF-8 form: either would
// reach a store and fail there as an internal error, so the edge refuses them as the client's fault.
const UNSTORABLE = /[\0\p{Cs}]/u;

/**
 * Every string of a decoded request message (nested messages, lists and maps included) checked
 * once, before any method runs: INVALID_REQUEST naming each bad field by its JSON path.
 */
export function checkStrings(schema: DescMessage, message: Message): void {
  const check = new RequestCheck();
  walk(schema, message, "", check);
  check.done();
}

// Request messages are shallow; the decoders already bound the depth (protobuf's recursion limit, the body size).
function walk(schema: DescMessage, message: Message, prefix: string, check: RequestCheck): void {
  const fields = message as unknown as Record<string, unknown>;
  for (const field of schema.fields) {
    const path = prefix + field.jsonName;
    const value = field.oneof ? oneofValue(fields[field.oneof.localName], field.localName) : fields[field.localName];
    if (value === undefined || value === null) continue;
    const visit = (v: unknown, at: string) => {
      if (typeof v === "string") stringAt(at, v, check);
      else if (field.message && typeof v === "object" && v !== null) walk(field.message, v as Message, `${at}.`, check);
    };
    if (field.fieldKind === "list") (value as unknown[]).forEach((v, i) => visit(v, `${path}.${i}`));
    else if (field.fieldKind === "map") {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        stringAt(`${path} key`, k, check);
        visit(v, `${path}.${k}`);
      }
    } else visit(value, path);
  }
}

function oneofValue(oneof: unknown, localName: string): unknown {
  const o = oneof as { case?: string; value?: unknown } | undefined;
  return o?.case === localName ? o.value : undefined;
}

function stringAt(field: string, value: string, check: RequestCheck): void {
  check
    .that(field, value.length <= MAX_STRING_LENGTH, `"${field}" must be at most ${MAX_STRING_LENGTH} characters`)
    .that(field, !UNSTORABLE.test(value), `"${field}" must not contain NUL characters or unpaired surrogates`);
}
