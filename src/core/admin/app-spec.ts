// What an operator may say about an app (admin API, bootstrap file) and the defaults for what they
// leave out: one rule set, so an app created either way is the same app.
import { APP_ID_RULE, APP_STATUSES, DEFAULT_APP_REMEMBER_DEVICE_DAYS, isAppId, MAX_REMEMBER_DEVICE_DAYS, PASSWORD_PREHASHES, TWO_FACTOR_MODES, type NewApp } from "../apps/app.js";
import { metadataPathProblem } from "../apps/metadata-path.js";
import { ok, type FieldViolation, type Result } from "../failure.js";
import { invalid } from "./invalid.js";

/** An app as described: absent fields take their defaults (name and realm app id = the id). */
export interface AppSpec {
  id: string;
  name?: string;
  status?: string;
  twoFactor?: string;
  realmAppId?: string;
  jwtExpirationHours?: number;
  passwordPrehash?: string;
  metadataFields?: Array<{ path: string; fieldName?: string; required?: boolean }>;
  /** 0 (the default here): the app's users cannot have a device remembered. */
  rememberDeviceDays?: number;
}

const MAX_JWT_HOURS = 24 * 365;

/** What is wrong with the fields `spec` sets; each named `at` + field (e.g. "app.status", "apps[0].status"). */
export function appSpecViolations(spec: Partial<AppSpec>, at = ""): FieldViolation[] {
  const violations: FieldViolation[] = [];
  // ": " after the id keeps the admin API's wording of the rule ("app.id: letters, ...").
  const check = (field: string, valid: boolean, rule: string) => {
    if (!valid) violations.push({ field: at + field, description: `${at}${field}${rule}`, kind: "invalid" });
  };
  const among = (value: string | undefined, values: readonly string[]) => value === undefined || values.includes(value);
  if (spec.id !== undefined) check("id", isAppId(spec.id), `: ${APP_ID_RULE}`);
  check("status", among(spec.status, APP_STATUSES), ` must be ${choices(APP_STATUSES)}`);
  check("twoFactor", among(spec.twoFactor, TWO_FACTOR_MODES), ` must be ${choices(TWO_FACTOR_MODES)}`);
  check("passwordPrehash", among(spec.passwordPrehash, PASSWORD_PREHASHES), ` must be ${choices(PASSWORD_PREHASHES)}`);
  const hours = spec.jwtExpirationHours;
  check("jwtExpirationHours", hours === undefined || (Number.isInteger(hours) && hours >= 1 && hours <= MAX_JWT_HOURS), ` must be a whole number of hours (1 to ${MAX_JWT_HOURS})`);
  const days = spec.rememberDeviceDays;
  check("rememberDeviceDays", days === undefined || (Number.isInteger(days) && days >= 0 && days <= MAX_REMEMBER_DEVICE_DAYS), ` must be a whole number of days (0 to ${MAX_REMEMBER_DEVICE_DAYS}; 0: off)`);
  // The root of the path becomes a JWT claim, so only plain names, and none that reaches a prototype.
  spec.metadataFields?.forEach((f, i) => {
    const problem = metadataPathProblem(f.path);
    check(`metadataFields[${i}].path`, problem === null, ` ${problem}`);
  });
  return violations;
}

/**
 * The app `spec` describes with the defaults filled in, or INVALID_REQUEST naming what is wrong.
 * `isDefaultApp`: the spec describes DEFAULT_APP (the bootstrap file may), which remembers devices by default.
 */
export function appFromSpec(spec: AppSpec, appToken: string, at = "", isDefaultApp = false): Result<NewApp> {
  // An id is required here (an update names the app elsewhere), so a missing one is checked as "".
  const violations = appSpecViolations({ ...spec, id: spec.id ?? "" }, at);
  if (violations.length > 0) return invalid(violations);
  return ok({
    id: spec.id,
    name: spec.name ?? spec.id,
    appToken,
    status: (spec.status ?? "active") as NewApp["status"],
    twoFactor: (spec.twoFactor ?? "none") as NewApp["twoFactor"],
    realmAppId: spec.realmAppId ?? spec.id,
    jwtExpirationHours: spec.jwtExpirationHours ?? 24,
    passwordPrehash: (spec.passwordPrehash ?? "none") as NewApp["passwordPrehash"],
    metadataFields: (spec.metadataFields ?? []).map((f) => ({ path: f.path, fieldName: f.fieldName || f.path, required: f.required ?? false })),
    rememberDeviceDays: spec.rememberDeviceDays ?? (isDefaultApp ? DEFAULT_APP_REMEMBER_DEVICE_DAYS : 0),
  });
}

// "none or md5", "one of active, suspended, deleted": the admin API's wording.
function choices(values: readonly string[]): string {
  return values.length === 2 ? values.join(" or ") : `one of ${values.join(", ")}`;
}
