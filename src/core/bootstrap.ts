// SIGNIN_BOOTSTRAP: the apps and accounts of the file that do not exist yet are created at
// start-up; existing ones are never changed. The whole file is checked before anything is written.
import { ACCOUNT_ID_PATTERN, LoginTaken, loginKey, type AccountStore, type NewAccount } from "./accounts/account.js";
import { EMAIL_RULE, isEmail } from "./admin/account-spec.js";
import { appFromSpec, type AppSpec } from "./admin/app-spec.js";
import { saveApp } from "./admin/apps.js";
import type { AppStore, NewApp } from "./apps/app.js";
import { E164 } from "./otp/sms.js";
import type { PasswordHasher } from "./password/hasher.js";
import { passwordProblem } from "./password/policy.js";
import { passwordSecret } from "./password/secret.js";
import type { AppKeys } from "./tokens/app-tokens.js";

export class BootstrapError extends Error {}

interface BootstrapUser {
  id?: string;
  app?: string;
  username?: string;
  handle?: string;
  email?: string;
  emailVerified?: boolean;
  password: string;
  fullName?: string;
  permissions?: string[];
  totpSecret?: string;
  googleTwoFactor?: boolean;
  deactivated?: boolean;
  status?: "active" | "suspended";
  metadata?: Record<string, unknown>;
  phone?: string;
  phoneVerified?: boolean;
  phoneTwoFactor?: boolean;
}

export interface Bootstrap {
  /** The file, named by the errors found while applying it. */
  source: string;
  apps: NewApp[];
  users: BootstrapUser[];
}

const BASE32 = /^[A-Z2-7]+=*$/;
const EXPECTED = 'expected an object with a "users" array, an "apps" array, or both';

/**
 * Errors name the entry (users[2]: ...); the caller names the file, which is `source`.
 * `defaultAppId`: DEFAULT_APP, whose description takes the default app's defaults (remembered devices).
 */
export function parseBootstrap(text: string, source = "", defaultAppId?: string): Bootstrap {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new BootstrapError(`not valid JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new BootstrapError(EXPECTED);
  const { users = [], apps = [], ...others } = doc as { users?: unknown; apps?: unknown };
  // A misspelt key would otherwise seed nothing, silently.
  const other = Object.keys(others)[0];
  if (other !== undefined) throw new BootstrapError(`unknown key "${other}": ${EXPECTED}`);
  if (!Array.isArray(users)) throw new BootstrapError('"users" must be an array');
  if (!Array.isArray(apps)) throw new BootstrapError('"apps" must be an array');
  return { source, apps: apps.map((a, i) => checkApp(a, `apps[${i}]`, defaultAppId)), users: users.map((u, i) => checkUser(u, `users[${i}]`)) };
}

function checker(value: unknown, at: string) {
  if (typeof value !== "object" || value === null) throw new BootstrapError(`${at}: expected an object`);
  const r = value as Record<string, unknown>;
  const need = (cond: boolean, what: string) => {
    if (!cond) throw new BootstrapError(`${at}: ${what}`);
  };
  const optional = (name: string, type: string) => need(r[name] === undefined || typeof r[name] === type, `"${name}" must be a ${type}`);
  const oneOf = (name: string, allowed: string[]) =>
    need(r[name] === undefined || allowed.includes(r[name] as string), `"${name}" must be one of ${allowed.join(", ")}`);
  return { r, need, optional, oneOf };
}

// The JSON types are checked here; the values, and the defaults, are the admin API's (appFromSpec).
function checkApp(value: unknown, at: string, defaultAppId: string | undefined): NewApp {
  const { r, need, optional } = checker(value, at);
  need(typeof r.appToken === "string" && r.appToken.length >= 16, '"appToken" is required (at least 16 characters)');
  for (const key of ["name", "realmAppId", "status", "twoFactor", "passwordPrehash"]) optional(key, "string");
  optional("jwtExpirationHours", "number");
  optional("rememberDeviceDays", "number");
  need(
    r.metadataFields === undefined ||
      (Array.isArray(r.metadataFields) &&
        r.metadataFields.every((f) => typeof f?.path === "string" && (f.fieldName === undefined || typeof f.fieldName === "string") && (f.required === undefined || typeof f.required === "boolean"))),
    '"metadataFields" must be [{path: "a.b", fieldName, required}]',
  );
  const app = appFromSpec(r as unknown as AppSpec, r.appToken as string, `${at}.`, r.id === defaultAppId);
  if (!app.ok) throw new BootstrapError(app.failure.message);
  return app.value;
}

function checkUser(value: unknown, at: string): BootstrapUser {
  const { r, need, optional, oneOf } = checker(value, at);
  const name = r.username ?? r.handle;
  need(typeof name === "string" && name.trim() !== "", '"username" (or "handle") is required');
  need(typeof r.password === "string", '"password" is required');
  const password = passwordProblem(r.password as string);
  need(password === null, `"password" ${password?.rule}`);
  need(r.id === undefined || (typeof r.id === "string" && ACCOUNT_ID_PATTERN.test(r.id)), '"id" must be 24 lowercase hex characters');
  for (const key of ["app", "email", "fullName", "phone"]) optional(key, "string");
  need(r.email === undefined || isEmail(r.email as string), `"email" ${EMAIL_RULE}`);
  for (const key of ["emailVerified", "deactivated", "googleTwoFactor", "phoneVerified", "phoneTwoFactor"]) optional(key, "boolean");
  oneOf("status", ["active", "suspended"]);
  need(r.metadata === undefined || (typeof r.metadata === "object" && r.metadata !== null && !Array.isArray(r.metadata)), '"metadata" must be an object');
  need(r.phone === undefined || E164.test(r.phone as string), '"phone" must be E.164, e.g. +15555550100');
  need(
    r.permissions === undefined || (Array.isArray(r.permissions) && r.permissions.every((p) => typeof p === "string")),
    '"permissions" must be an array of strings',
  );
  need(r.totpSecret === undefined || (typeof r.totpSecret === "string" && BASE32.test(r.totpSecret)), '"totpSecret" must be base32 (A-Z, 2-7)');
  need(r.googleTwoFactor !== true || r.totpSecret !== undefined, '"googleTwoFactor": true needs a "totpSecret"');
  return r as unknown as BootstrapUser;
}

/**
 * Creates the file's apps and accounts that do not exist yet; never changes one that does. The file
 * is a seed, not the source of truth: an operator's later change (a deactivation, a new password, a
 * suspended app, a rotated app token) or a user's (TOTP, phone) survives every restart.
 */
export async function applyBootstrap(
  doc: Bootstrap,
  deps: { apps: AppStore; accounts: AccountStore; hasher: PasswordHasher; appKeys: AppKeys; defaultAppId: string },
): Promise<{ apps: number; users: number; existing: number }> {
  // Each user's app is in the file or already stored: checked before anything is written.
  const filed = new Set(doc.apps.map((a) => a.id));
  for (const [i, u] of doc.users.entries()) {
    const appId = u.app ?? deps.defaultAppId;
    if (!filed.has(appId) && !(await deps.apps.findById(appId))) throw entryError(doc, i, `unknown app "${appId}"`);
  }
  let apps = 0;
  let users = 0;
  for (const app of doc.apps) {
    if (await deps.apps.findById(app.id)) continue;
    await saveApp(deps, app);
    apps++;
  }
  for (const [i, u] of doc.users.entries()) {
    const app = (await deps.apps.findById(u.app ?? deps.defaultAppId))!;
    const username = (u.username ?? u.handle)!;
    const existing = () => (u.id ? deps.accounts.findById(u.id) : deps.accounts.findByLogin(app.id, loginKey(username)));
    if (await existing()) continue;
    const account: NewAccount = {
      id: u.id,
      appId: app.id,
      username,
      email: u.email ?? (u.handle && !u.username ? u.handle : null),
      emailVerified: u.emailVerified ?? false,
      fullName: u.fullName ?? "",
      passwordHash: await deps.hasher.hash(passwordSecret(app, u.password, "plain")),
      permissions: u.permissions ?? [],
      totpSecret: u.googleTwoFactor === false ? null : (u.totpSecret ?? null),
      deactivated: u.deactivated ?? u.status === "suspended",
      metadata: u.metadata ?? {},
      phone: u.phone ?? null,
      phoneVerified: u.phoneVerified ?? false,
      phoneTwoFactor: u.phoneTwoFactor ?? false,
    };
    try {
      await deps.accounts.upsert(account);
      users++;
    } catch (err) {
      if (!(err instanceof LoginTaken)) throw err;
      // Another instance starting on the same database created it a moment ago.
      if (await existing()) continue;
      throw entryError(doc, i, `username or email already used in app "${app.id}" by another account`);
    }
  }
  return { apps, users, existing: doc.apps.length + doc.users.length - apps - users };
}

// Worded as the parse errors are once the caller has named the file.
function entryError(doc: Bootstrap, index: number, message: string): BootstrapError {
  return new BootstrapError(`SIGNIN_BOOTSTRAP ${doc.source}: users[${index}]: ${message}`);
}
