// An account and the store interface the core needs for it; PostgreSQL/PGlite
// implement it in stores/postgres.
import { randomBytes } from "node:crypto";

export interface Account {
  /** 24 hex characters, like a MongoDB ObjectId (the legacy API's ids). */
  id: string;
  username: string;
  email: string | null;
  emailVerified: boolean;
  fullName: string;
  passwordHash: string;
  permissions: string[];
  /** Base32 TOTP secret once a factor is active. */
  totpSecret: string | null;
  deactivated: boolean;
  createdAt: Date;
}

export interface NewAccount {
  id?: string;
  username: string;
  email: string | null;
  emailVerified?: boolean;
  fullName?: string;
  passwordHash: string;
  permissions?: string[];
  totpSecret?: string | null;
  deactivated?: boolean;
}

export interface AccountStore {
  /** By username or email, compared on their `loginKey` forms. */
  findByLogin(loginKey: string): Promise<Account | null>;
  findById(id: string): Promise<Account | null>;
  /** Inserts, or updates the account with the same id (or, when no id is given, username). */
  upsert(account: NewAccount): Promise<Account>;
  setPasswordHash(id: string, passwordHash: string): Promise<void>;
  setTotpSecret(id: string, secret: string | null): Promise<void>;
}

/** Case-insensitive, Unicode-normalised form used to find an account by username or email. */
export function loginKey(login: string): string {
  return login.normalize("NFKC").trim().toLowerCase();
}

export function newAccountId(): string {
  return randomBytes(12).toString("hex");
}

export const ACCOUNT_ID_PATTERN = /^[0-9a-f]{24}$/;
