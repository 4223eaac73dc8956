// Importing accounts from another system: records carry a PHC hash (argon2, or bcrypt as the
// Cosync original stored bcrypt(md5hex)) verified as is and upgraded to argon2id at the next
// sign-in, or a password typed in clear (hashed here, under the password rule). A hash whose own
// parameters exceed the hasher's caps is refused (it would make each sign-in a denial of service).
// Each record succeeds or fails alone.
import { ACCOUNT_ID_PATTERN, loginKey, type AccountStore } from "../accounts/account.js";
import type { App } from "../apps/app.js";
import type { Result } from "../failure.js";
import { emailViolation, passwordViolation } from "./account-spec.js";
import type { AppAdmin } from "./apps.js";

export interface ImportRecord {
  line: number;
  /** The default app when absent. */
  appId?: string;
  id?: string;
  username: string;
  email?: string;
  passwordHash?: string;
  password?: string;
  fullName?: string;
  metadata?: Record<string, unknown>;
  deactivated?: boolean;
}

export interface ImportResult {
  line: number;
  outcome: "created" | "updated" | "failed";
  reason?: string;
  id?: string;
}

export async function importAccounts(
  records: ImportRecord[],
  deps: {
    apps: AppAdmin;
    accounts: AccountStore;
    hashPassword(app: App, password: string): Promise<string>;
    /** PasswordHasher.hashProblem: not a PHC string the hasher verifies, or above its caps. */
    hashProblem(passwordHash: string): string | null;
    revokeAll(accountId: string): Promise<void>;
  },
): Promise<ImportResult[]> {
  // Records of one app come in runs: look each app up once per call.
  const apps = new Map<string, Promise<Result<App>>>();
  const appOf = (id: string) => apps.get(id) ?? apps.set(id, deps.apps.find(id)).get(id)!;
  const results: ImportResult[] = [];
  for (const r of records) {
    const failed = (reason: string): ImportResult => ({ line: r.line, outcome: "failed", reason });
    try {
      const appId = deps.apps.idOf(r.appId);
      const found = await appOf(appId);
      const app = found.ok && found.value.status !== "deleted" ? found.value : null;
      const problem = app ? recordProblem(r, deps.hashProblem) : `unknown app "${appId}"`;
      if (!app || problem) results.push(failed(problem ?? ""));
      else {
        const existing = r.id ? await deps.accounts.findById(r.id) : await deps.accounts.findByLogin(app.id, loginKey(r.username));
        const passwordHash = r.passwordHash ?? (await deps.hashPassword(app, r.password!));
        const account = await deps.accounts.upsert({
          id: existing?.id ?? r.id,
          appId: app.id,
          username: r.username,
          email: r.email ?? (r.username.includes("@") ? r.username : null),
          fullName: r.fullName ?? existing?.fullName ?? "",
          passwordHash,
          permissions: existing?.permissions ?? [],
          totpSecret: existing?.totpSecret ?? null,
          deactivated: r.deactivated ?? false,
          metadata: r.metadata ?? existing?.metadata ?? {},
          phone: existing?.phone ?? null,
          phoneVerified: existing?.phoneVerified ?? false,
          phoneTwoFactor: existing?.phoneTwoFactor ?? false,
        });
        // A changed password or a deactivation ends the account's sessions and tokens, as in the admin API.
        if (existing && (existing.passwordHash !== passwordHash || (account.deactivated && !existing.deactivated))) await deps.revokeAll(account.id);
        results.push({ line: r.line, outcome: existing ? "updated" : "created", id: account.id });
      }
    } catch (err) {
      results.push(failed((err as Error).message)); // e.g. LoginTaken
    }
  }
  return results;
}

function recordProblem(r: ImportRecord, hashProblem: (passwordHash: string) => string | null): string | null {
  if (!r.username.trim()) return "username is required";
  if (r.id && !ACCOUNT_ID_PATTERN.test(r.id)) return "id must be 24 lowercase hex characters";
  if (r.passwordHash) {
    const problem = hashProblem(r.passwordHash);
    if (problem) return `passwordHash ${problem}`;
  } else if (!r.password) return "passwordHash or password is required";
  // Only a password typed in clear is chosen now; a hash carries one the user already had.
  else if (passwordViolation(r.password)) return passwordViolation(r.password)!.description;
  return r.email ? (emailViolation(r.email)?.description ?? null) : null;
}
