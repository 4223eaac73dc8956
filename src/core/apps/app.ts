// Apps (tenants): every account belongs to one. An app's token is stored only as a hash and
// compared in constant time; its RS256 key pair signs the JWTs of its users.
import { createHash, timingSafeEqual } from "node:crypto";
import { fail, ok, type Result } from "../failure.js";

// The value lists are the types' source, so admin, bootstrap and the store cannot drift apart.
export const APP_STATUSES = ["active", "suspended", "deleted"] as const;
export const TWO_FACTOR_MODES = ["none", "phone", "google"] as const;
export const PASSWORD_PREHASHES = ["none", "md5"] as const;
export type AppStatus = (typeof APP_STATUSES)[number];
export type TwoFactorMode = (typeof TWO_FACTOR_MODES)[number];
export type PasswordPrehash = (typeof PASSWORD_PREHASHES)[number];

/** The one app-id rule (DEFAULT_APP, the bootstrap file, the admin API): it ends up in URLs, keys and JWT claims. */
export const APP_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const APP_ID_RULE = "letters, digits, _ . - (up to 64)";

export function isAppId(id: unknown): id is string {
  return typeof id === "string" && APP_ID_PATTERN.test(id);
}

export interface MetadataField {
  /** Dotted path into the user's metadata, e.g. "user_data.role"; its root becomes a JWT claim. */
  path: string;
  fieldName: string;
  required: boolean;
}

export interface App {
  id: string;
  name: string;
  status: AppStatus;
  twoFactor: TwoFactorMode;
  realmAppId: string;
  jwtExpirationHours: number;
  metadataFields: MetadataField[];
  /** "md5": clients send md5hex(password); we store argon2id(md5hex). */
  passwordPrehash: PasswordPrehash;
  /** SHA-256 of the app token, as stored (null: no Cosync-style access). */
  tokenHash?: string | null;
  /** Days a device its users ask to remember skips the second factor (0: never remembered). */
  rememberDeviceDays: number;
}

export interface NewApp extends App {
  appToken: string;
}

export interface AppStore {
  findById(id: string): Promise<App | null>;
  /** By the hash of the token a client sent (see appTokenHash). */
  findByTokenHash(tokenHash: string): Promise<App | null>;
  upsert(app: NewApp): Promise<App>;
  list(): Promise<App[]>;
}

/** SHA-256 is enough for a high-entropy random token, and lets the database look it up by index. */
export function appTokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Constant-time comparison of two app-token hashes (the lookup is by index; this re-checks). */
export function sameTokenHash(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

export const DEFAULT_APP_ID = "default";
/** The longest an app may remember a device: a device credential lives a year (core/devices/device-credential.ts). */
export const MAX_REMEMBER_DEVICE_DAYS = 365;
/**
 * The default app (made by the service, not by an operator) remembers devices for 30 days; other
 * apps only when their operator says so, and apps stored before the setting existed keep 0.
 */
export const DEFAULT_APP_REMEMBER_DEVICE_DAYS = 30;

/** The app the Yeep-style API serves when none is configured: no prehash, TOTP allowed. */
export function defaultApp(id: string): NewApp {
  return {
    id,
    name: "Default",
    status: "active",
    twoFactor: "google",
    realmAppId: id,
    jwtExpirationHours: 24,
    metadataFields: [],
    passwordPrehash: "none",
    appToken: "",
    rememberDeviceDays: DEFAULT_APP_REMEMBER_DEVICE_DAYS,
  };
}

declare const checkedActive: unique symbol;
/** An app `checkApp` found active: the only kind that signs anyone in. */
export type ActiveApp = App & { readonly [checkedActive]: true };

/** Deleted and suspended apps are refused. */
export function checkApp(app: App): Result<ActiveApp> {
  if (app.status === "deleted") return fail("APP_DELETED");
  if (app.status === "suspended") return fail("APP_SUSPENDED");
  return ok(app as ActiveApp);
}
