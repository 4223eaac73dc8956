// Who may read which account: anyone their own; another one only with `user.read`.
import { fail, ok, type Result } from "../failure.js";
import type { Account, AccountStore } from "./account.js";

export const READ_USERS_PERMISSION = "user.read";

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
