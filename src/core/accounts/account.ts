// An account and the store interface the core needs for it; PostgreSQL/PGlite
// implement it in stores/postgres.
import { randomBytes } from "node:crypto";

export interface Account {
  /** 24 hex characters, like a MongoDB ObjectId (the legacy API's ids). */
  id: string;
  /** The app (tenant) the account belongs to; usernames and emails are unique per app. */
  appId: string;
  username: string;
  email: string | null;
  emailVerified: boolean;
  fullName: string;
  passwordHash: string;
  permissions: string[];
  /** Base32 TOTP secret once a factor is active. */
  totpSecret: string | null;
  deactivated: boolean;
  /** App-defined data; JWT claims come from it (see the app's metadata fields). */
  metadata: Record<string, unknown>;
  /** E.164 phone number. */
  phone: string | null;
  phoneVerified: boolean;
  /** SMS second factor turned on (used only while the phone is verified). */
  phoneTwoFactor: boolean;
  createdAt: Date;
  /**
   * Whether the account has a passkey, when the store read it in the same statement (the sign-in's
   * lookup by login: no query of its own); absent otherwise, and then asked of the passkey store.
   */
  hasPasskey?: boolean;
  /** Unused recovery codes, when the store read them with the account (by login, by id); else asked of their store. */
  recoveryCodesLeft?: number;
}

export interface NewAccount {
  id?: string;
  appId: string;
  username: string;
  email: string | null;
  emailVerified?: boolean;
  fullName?: string;
  passwordHash: string;
  permissions?: string[];
  totpSecret?: string | null;
  deactivated?: boolean;
  metadata?: Record<string, unknown>;
  phone?: string | null;
  phoneVerified?: boolean;
  phoneTwoFactor?: boolean;
}

export interface PhoneState {
  phone: string | null;
  phoneVerified: boolean;
  phoneTwoFactor: boolean;
}

export interface AccountPatch {
  email?: string | null;
  fullName?: string;
  deactivated?: boolean;
  permissions?: string[];
  metadata?: Record<string, unknown>;
}

export interface AccountStore {
  /** By username or email within an app, compared on their `loginKey` forms. */
  findByLogin(appId: string, loginKey: string): Promise<Account | null>;
  findById(id: string): Promise<Account | null>;
  /** Inserts, or updates the account with the same id; LoginTaken when another account of the app has its username or email. */
  upsert(account: NewAccount): Promise<Account>;
  setPasswordHash(id: string, passwordHash: string): Promise<void>;
  setTotpSecret(id: string, secret: string | null): Promise<void>;
  setPhone(id: string, phone: PhoneState): Promise<void>;
  /** Changes the given fields; null when there is no such account; LoginTaken as upsert. */
  update(id: string, patch: AccountPatch): Promise<Account | null>;
  /** An app's accounts by id, after `afterId`, at most `limit`. */
  list(appId: string, afterId: string, limit: number): Promise<Account[]>;
}

/** The username or email is another account's in the same app (they are unique per app, as login keys). */
export class LoginTaken extends Error {
  constructor() {
    super("username or email already used in this app");
  }
}

/** Case-insensitive, Unicode-normalised form used to find an account by username or email. */
export function loginKey(login: string): string {
  return login.normalize("NFKC").trim().toLowerCase();
}

export function newAccountId(): string {
  return randomBytes(12).toString("hex");
}

export const ACCOUNT_ID_PATTERN = /^[0-9a-f]{24}$/;
