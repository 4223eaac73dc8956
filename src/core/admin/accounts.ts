// Accounts as operators manage them: create, update, set a password, enroll TOTP, reset second
// factors, revoke sessions, list, read the audit trail, import. A deactivation, a new password and
// a removed or replaced second factor end every session and token the account holds.
import { LoginTaken, loginKey, type Account, type AccountPatch, type AccountStore } from "../accounts/account.js";
import type { App } from "../apps/app.js";
import type { RecentAudit, StoredAuditEvent } from "../audit.js";
import { fail, ok, type FieldViolation, type Result } from "../failure.js";
import { newTotpSecret, totpUri } from "../otp/totp.js";
import type { PasswordHasher } from "../password/hasher.js";
import type { PasskeyStore } from "../passkeys/passkey.js";
import type { RecoveryCodes } from "../otp/recovery-codes.js";
import { passwordSecret } from "../password/secret.js";
import type { Revocations } from "../sessions/revocations.js";
import type { AppAdmin } from "./apps.js";
import { emailViolation, passwordViolation } from "./account-spec.js";
import { importAccounts, type ImportRecord, type ImportResult } from "./import.js";
import { invalid, required } from "./invalid.js";

export interface AccountAdminDeps {
  accounts: AccountStore;
  hasher: PasswordHasher;
  revocations: Revocations;
  recentAudit: RecentAudit;
  totpIssuer: string;
  /** Dropped with the factors they back up (resetSecondFactors). */
  recoveryCodes?: RecoveryCodes;
  /** Reset with the other factors: a user who lost their only passkey must be unlockable. */
  passkeys?: PasskeyStore;
}

export interface NewAccountSpec {
  /** The default app when absent. */
  appId?: string;
  username: string;
  /** As typed; hashed as the app's clients will send it. */
  password: string;
  email?: string;
  fullName?: string;
  permissions?: string[];
  metadata?: Record<string, unknown>;
}

const MAX_PAGE = 1000;
const MAX_IMPORT = 1000;

export class AccountAdmin {
  constructor(
    private readonly deps: AccountAdminDeps,
    private readonly apps: AppAdmin,
  ) {}

  async create(spec: NewAccountSpec): Promise<Result<Account>> {
    const app = await this.apps.find(spec.appId);
    if (!app.ok) return app;
    const violations: FieldViolation[] = [];
    if (!spec.username.trim()) violations.push(required("username"));
    const password = passwordViolation(spec.password);
    if (password) violations.push(password);
    const badEmail = spec.email === undefined ? null : emailViolation(spec.email);
    if (badEmail) violations.push(badEmail);
    if (violations.length > 0) return invalid(violations);
    // Never an update in disguise: an existing username or email is refused, not overwritten.
    const logins = [spec.username, spec.email].filter((l): l is string => !!l);
    for (const login of logins) if (await this.deps.accounts.findByLogin(app.value.id, loginKey(login))) return loginTaken(app.value.id);
    const passwordHash = await this.hashPassword(app.value, spec.password);
    const { username, email = null, fullName = "", permissions = [], metadata = {} } = spec;
    return this.unlessTaken(app.value.id, () => this.deps.accounts.upsert({ appId: app.value.id, username, email, fullName, passwordHash, permissions, metadata }));
  }

  /** Changes the given fields; deactivating also revokes every session and token the account holds. */
  async update(id: string, patch: AccountPatch): Promise<Result<Account>> {
    // null removes the email; a new one must be one.
    const badEmail = typeof patch.email === "string" ? emailViolation(patch.email) : null;
    if (badEmail) return invalid([badEmail]);
    const updated = await this.unlessTaken(undefined, () => this.deps.accounts.update(id, patch));
    if (!updated.ok) return updated;
    if (!updated.value) return notFound(id);
    if (patch.deactivated) await this.deps.revocations.revokeAll(id);
    return ok(updated.value);
  }

  async setPassword(id: string, password: string): Promise<Result<void>> {
    const violation = passwordViolation(password);
    if (violation) return invalid([violation]);
    const account = await this.find(id);
    if (!account.ok) return account;
    const app = await this.apps.find(account.value.appId);
    if (!app.ok) return app;
    await this.deps.accounts.setPasswordHash(id, await this.hashPassword(app.value, password));
    // Whoever held the old password (or a session made with it) is out.
    await this.deps.revocations.revokeAll(id);
    return ok(undefined);
  }

  /** A new TOTP secret, active at once (the operator hands it over); replaces any other. */
  async enrollTotp(id: string): Promise<Result<{ secret: string; uri: string }>> {
    const account = await this.find(id);
    if (!account.ok) return account;
    const secret = newTotpSecret();
    await this.deps.accounts.setTotpSecret(id, secret);
    if (account.value.totpSecret) await this.deps.revocations.revokeAll(id); // the old factor is removed
    return ok({ secret, uri: totpUri(this.deps.totpIssuer, account.value.email ?? account.value.username, secret) });
  }

  /** Removes TOTP, the passkeys and the recovery codes, and turns SMS two-factor off; the phone number itself stays. */
  async resetSecondFactors(id: string): Promise<Result<void>> {
    const account = await this.find(id);
    if (!account.ok) return account;
    const { phone, phoneVerified } = account.value;
    await this.deps.accounts.setTotpSecret(id, null);
    await this.deps.accounts.setPhone(id, { phone, phoneVerified, phoneTwoFactor: false });
    const passkeys = (await this.deps.passkeys?.removeAll(id)) ?? 0;
    // No real factor is left, so the codes that backed them up go too.
    const app = await this.apps.find(account.value.appId);
    await this.deps.recoveryCodes?.afterFactorRemoved(app.ok ? app.value : null, { ...account.value, totpSecret: null, phoneTwoFactor: false });
    if (account.value.totpSecret || account.value.phoneTwoFactor || passkeys > 0) await this.deps.revocations.revokeAll(id);
    return ok(undefined);
  }

  async revokeSessions(id: string): Promise<Result<void>> {
    const account = await this.find(id);
    if (!account.ok) return account;
    await this.deps.revocations.revokeAll(id);
    return ok(undefined);
  }

  /** A page of an app's accounts by id; `nextPageToken` is empty on the last page. */
  async list(appId: string | undefined, pageToken: string, pageSize: number): Promise<Result<{ accounts: Account[]; nextPageToken: string }>> {
    const app = await this.apps.find(appId);
    if (!app.ok) return app;
    const size = Math.min(Math.max(pageSize || 100, 1), MAX_PAGE);
    // One more than shown tells whether another page exists.
    const page = await this.deps.accounts.list(app.value.id, pageToken, size + 1);
    const accounts = page.slice(0, size);
    return ok({ accounts, nextPageToken: page.length > size ? accounts[accounts.length - 1]!.id : "" });
  }

  /** An unknown account is ACCOUNT_NOT_FOUND, not an empty trail that looks like a quiet account. */
  async auditEvents(id: string): Promise<Result<StoredAuditEvent[]>> {
    const account = await this.find(id);
    if (!account.ok) return account;
    return ok(await this.deps.recentAudit.recent(id));
  }

  /** Each record succeeds or fails alone; a batch bounds one call's work. */
  async import(records: ImportRecord[]): Promise<Result<ImportResult[]>> {
    if (records.length > MAX_IMPORT) return invalid([{ field: "records", description: `at most ${MAX_IMPORT} records per call`, kind: "invalid" }]);
    const revokeAll = (id: string) => this.deps.revocations.revokeAll(id);
    const hashProblem = (passwordHash: string) => this.deps.hasher.hashProblem(passwordHash);
    return ok(await importAccounts(records, { apps: this.apps, accounts: this.deps.accounts, hashPassword: (app, pw) => this.hashPassword(app, pw), hashProblem, revokeAll }));
  }

  /** A password an operator typed, hashed as the app's clients send it (md5 apps: argon2id of md5hex). */
  hashPassword(app: App, password: string): Promise<string> {
    return this.deps.hasher.hash(passwordSecret(app, password, "plain"));
  }

  /** A write refused by the uniqueness of logins (two creates racing, an email already used) as a failure. */
  private async unlessTaken<T>(appId: string | undefined, write: () => Promise<T>): Promise<Result<T>> {
    try {
      return ok(await write());
    } catch (err) {
      if (err instanceof LoginTaken) return appId ? loginTaken(appId) : fail("LOGIN_TAKEN");
      throw err;
    }
  }

  private async find(id: string): Promise<Result<Account>> {
    const account = await this.deps.accounts.findById(id);
    return account ? ok(account) : notFound(id);
  }
}

const loginTaken = (appId: string) => fail<never>("LOGIN_TAKEN", { message: `username or email already used in app "${appId}"` });
const notFound = (id: string) => fail<never>("ACCOUNT_NOT_FOUND", { message: `account "${id}" not found` });
