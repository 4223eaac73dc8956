// The account behind the session a request presents, or NOT_AUTHENTICATED.
import type { HandlerContext } from "@connectrpc/connect";
import type { Account } from "../../core/accounts/account.js";
import { presentedToken } from "./credentials.js";
import { who, type ServiceDeps } from "./deps.js";
import { reject } from "./errors.js";

export async function authenticate(deps: ServiceDeps, ctx: HandlerContext): Promise<Account> {
  const token = presentedToken(ctx.requestHeader, deps.cookie.name);
  const account = token ? await deps.sessions.account(token) : null;
  if (!account && token) tokenMisuse(deps, ctx, ctx.method.name);
  return account ?? reject("NOT_AUTHENTICATED");
}

/** Audits a presented session token that was not accepted (forged, expired, revoked or reused). */
export function tokenMisuse(deps: ServiceDeps, ctx: HandlerContext, where: string): void {
  deps.audit.record(who(ctx), { event: "session_token.invalid", appId: deps.defaultAppId, reason: where });
}

/** Methods that name a user act on the caller only (administration is a separate API). */
export function requireSelf(caller: Account, userId: string): void {
  if (userId && userId !== caller.id) reject("FORBIDDEN");
}
