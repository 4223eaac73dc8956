// Accounts by id are read on every user.info, session refresh and second sign-in step: a cache
// in front of the AccountStore saves a database query each time. Any write outdates it on every
// instance (see ReadCache), so a new password, a deactivation or a newly activated second factor
// applies everywhere as soon as the write returns. Lookups by login (the first sign-in step)
// always query: a cached account would answer faster than an unknown name, telling an attacker
// which accounts signed in recently; and sign-ins rarely repeat within a TTL anyway.
// Entries live in this process's memory only (Redis holds just the generation counter), so an
// account's opened TOTP secret never reaches Redis; in the database it stays sealed.
import type { Account, AccountPatch, AccountStore, NewAccount, PhoneState } from "../core/accounts/account.js";
import type { EphemeralStore } from "../core/ephemeral.js";
import type { RecoveryCodeStore } from "../core/otp/recovery-codes.js";
import { ReadCache } from "./read-cache.js";

export class CachedAccountStore implements AccountStore {
  private readonly cache: ReadCache<Account | null>;

  constructor(
    private readonly inner: AccountStore,
    shared: EphemeralStore,
    ttlMs: number,
    now?: () => number,
  ) {
    this.cache = new ReadCache(shared, "accounts", ttlMs, 20_000, now);
  }

  findByLogin(appId: string, loginKey: string): Promise<Account | null> {
    return this.inner.findByLogin(appId, loginKey);
  }

  findById(id: string): Promise<Account | null> {
    return this.cache.get(`id:${id}`, () => this.inner.findById(id));
  }

  list(appId: string, afterId: string, limit: number): Promise<Account[]> {
    return this.inner.list(appId, afterId, limit);
  }

  /** A write to what is read with the account (its recovery codes left): it outdates the cache as an account write does. */
  writeAlongside<R>(fn: () => Promise<R>): Promise<R> {
    return this.cache.write(fn);
  }

  // Writes are rare (admin, enrollment, hash upgrades): each empties the whole cache.
  upsert(account: NewAccount): Promise<Account> {
    return this.cache.write(() => this.inner.upsert(account));
  }

  setPasswordHash(id: string, passwordHash: string): Promise<void> {
    return this.cache.write(() => this.inner.setPasswordHash(id, passwordHash));
  }

  setTotpSecret(id: string, secret: string | null): Promise<void> {
    return this.cache.write(() => this.inner.setTotpSecret(id, secret));
  }

  setPhone(id: string, phone: PhoneState): Promise<void> {
    return this.cache.write(() => this.inner.setPhone(id, phone));
  }

  update(id: string, patch: AccountPatch): Promise<Account | null> {
    return this.cache.write(() => this.inner.update(id, patch));
  }
}

/** Recovery codes, whose count is read (and cached) with the account: every change outdates the cached account. */
export function codesCountedWithAccounts(store: RecoveryCodeStore, accounts: CachedAccountStore): RecoveryCodeStore {
  return {
    replace: (accountId, hashes) => accounts.writeAlongside(() => store.replace(accountId, hashes)),
    use: (accountId, hash) => accounts.writeAlongside(() => store.use(accountId, hash)),
    left: (accountId) => store.left(accountId),
    deleteAll: (accountId) => accounts.writeAlongside(() => store.deleteAll(accountId)),
  };
}
