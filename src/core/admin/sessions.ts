// An account's sessions as operators see them (issue 16): the same list its user sees (every
// device and surface, nothing marked current), and ending one of them on every instance.
import type { AccountStore } from "../accounts/account.js";
import { fail, ok, type Result } from "../failure.js";
import type { RequestContext } from "../request-context.js";
import type { ListedSession, SessionList } from "../sessions/session-list.js";

export interface SessionAdminDeps {
  accounts: AccountStore;
  sessionList: SessionList;
}

export class SessionAdmin {
  constructor(private readonly deps: SessionAdminDeps) {}

  async list(accountId: string): Promise<Result<ListedSession[]>> {
    if (!(await this.deps.accounts.findById(accountId))) return notFound(accountId);
    return ok(await this.deps.sessionList.list(accountId));
  }

  /** `ctx`: the admin request, for the account's audit trail (`session.revoked`, reason `admin_<kind>`). */
  async revoke(ctx: RequestContext, accountId: string, sessionId: string): Promise<Result<void>> {
    if (!(await this.deps.accounts.findById(accountId))) return notFound(accountId);
    return this.deps.sessionList.revoke(ctx, accountId, sessionId, "admin");
  }
}

const notFound = (id: string) => fail<never>("ACCOUNT_NOT_FOUND", { message: `account "${id}" not found` });
