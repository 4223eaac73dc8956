// SIGNIN_BOOTSTRAP: accounts upserted at start-up, idempotently (a password that still
// verifies keeps its hash). The whole file is checked before anything is written.
import { ACCOUNT_ID_PATTERN, loginKey, type AccountStore, type NewAccount } from "./accounts/account.js";
import { normalizePassword, type PasswordHasher } from "./password/hasher.js";

export class BootstrapError extends Error {}

interface BootstrapUser {
  id?: string;
  username: string;
  email?: string;
  emailVerified?: boolean;
  password: string;
  fullName?: string;
  permissions?: string[];
  totpSecret?: string;
  deactivated?: boolean;
}

const BASE32 = /^[A-Z2-7]+=*$/;

export function parseBootstrap(text: string): BootstrapUser[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new BootstrapError(`not valid JSON: ${(err as Error).message}`);
  }
  const users = (doc as { users?: unknown })?.users;
  if (!Array.isArray(users)) throw new BootstrapError('expected an object with a "users" array');
  return users.map((u, i) => checkUser(u, `users[${i}]`));
}

function checkUser(u: unknown, at: string): BootstrapUser {
  if (typeof u !== "object" || u === null) throw new BootstrapError(`${at}: expected an object`);
  const r = u as Record<string, unknown>;
  const need = (cond: boolean, what: string) => {
    if (!cond) throw new BootstrapError(`${at}: ${what}`);
  };
  const optional = (name: string, type: string) =>
    need(r[name] === undefined || typeof r[name] === type, `"${name}" must be a ${type}`);
  need(typeof r.username === "string" && r.username.trim() !== "", '"username" is required');
  need(typeof r.password === "string" && r.password !== "", '"password" is required');
  need(r.id === undefined || (typeof r.id === "string" && ACCOUNT_ID_PATTERN.test(r.id)), '"id" must be 24 lowercase hex characters');
  optional("email", "string");
  optional("emailVerified", "boolean");
  optional("fullName", "string");
  optional("deactivated", "boolean");
  need(
    r.permissions === undefined || (Array.isArray(r.permissions) && r.permissions.every((p) => typeof p === "string")),
    '"permissions" must be an array of strings',
  );
  need(
    r.totpSecret === undefined || (typeof r.totpSecret === "string" && BASE32.test(r.totpSecret)),
    '"totpSecret" must be base32 (A-Z, 2-7)',
  );
  return r as unknown as BootstrapUser;
}

export async function applyBootstrap(
  users: BootstrapUser[],
  accounts: AccountStore,
  hasher: PasswordHasher,
): Promise<number> {
  for (const u of users) {
    const existing = u.id ? await accounts.findById(u.id) : await accounts.findByLogin(loginKey(u.username));
    const password = normalizePassword(u.password);
    const kept = existing && (await hasher.verify(existing.passwordHash, password));
    const account: NewAccount = {
      id: u.id ?? existing?.id,
      username: u.username,
      email: u.email ?? null,
      emailVerified: u.emailVerified ?? false,
      fullName: u.fullName ?? "",
      passwordHash: kept && kept.ok && !kept.needsRehash ? existing.passwordHash : await hasher.hash(password),
      permissions: u.permissions ?? [],
      // A factor the user enrolled since is kept unless the file names one.
      totpSecret: u.totpSecret ?? existing?.totpSecret ?? null,
      deactivated: u.deactivated ?? false,
    };
    await accounts.upsert(account);
  }
  return users.length;
}
