// Who may act on which account: anyone on their own; reading another one needs `user.read`.
import { fail, ok, type Result } from "../failure.js";
import type { Account, AccountStore } from "./account.js";

export const READ_USERS_PERMISSION = "user.read";

/** Methods that name a user act on the caller only (administration is a separate API). */
export function actOnSelf(caller: Account, userId: string | undefined): Result<Account> {
  return !userId || userId === caller.id ? ok(caller) : fail("FORBIDDEN");
}

export async function readAccount(
  accounts: AccountStore,
  caller: Account,
  id: string | undefined,
): Promise<Result<Account>> {
  if (!id || id === caller.id) return ok(caller);
  if (!caller.permissions.includes(READ_USERS_PERMISSION)) return fail("FORBIDDEN");
  const account = await accounts.findById(id);
  return account ? ok(account) : fail("ACCOUNT_NOT_FOUND");
}
