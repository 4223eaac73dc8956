// The account behind the session a request presents, or NOT_AUTHENTICATED.
import type { HandlerContext } from "@connectrpc/connect";
import type { Account } from "../../core/accounts/account.js";
import { presentedToken } from "./credentials.js";
import { who, type ServiceDeps } from "./deps.js";
import { reject } from "./errors.js";

export async function authenticate(deps: ServiceDeps, ctx: HandlerContext): Promise<Account> {
  const token = presentedToken(ctx.requestHeader, deps.cookie.name);
  const account = token ? await deps.sessions.account(token, presenter(ctx)) : null;
  return account ?? reject("NOT_AUTHENTICATED");
}

/** Who presents a session token, for the audit of a refused one. */
export const presenter = (ctx: HandlerContext) => ({ ctx: who(ctx), where: ctx.method.name });
