// TotpService: the caller enrolls, activates and removes their own TOTP factor.
import type { ServiceImpl } from "@connectrpc/connect";
import { TotpService } from "../../../gen/signin/session/v1/totp_pb.js";
import type { HandlerContext } from "@connectrpc/connect";
import { actOnSelf } from "../../core/accounts/access.js";
import type { Caller } from "../../core/sessions/sessions.js";
import { authenticate, presenter } from "./authenticate.js";
import { presentedToken } from "./credentials.js";
import { who, type ServiceDeps } from "./deps.js";
import { reject, unwrap } from "./errors.js";
import { RequestCheck } from "./validate.js";

export function totpService(deps: ServiceDeps): ServiceImpl<typeof TotpService> {
  const { enrollment } = deps;
  /** The caller with its session: a removal ends every other session of the account, not this one. */
  const caller = async (ctx: HandlerContext): Promise<Caller> => {
    const token = presentedToken(ctx.requestHeader, deps.cookie.name);
    return (token ? await deps.sessions.caller(token, presenter(ctx)) : null) ?? reject("NOT_AUTHENTICATED");
  };
  return {
    async enroll(req, ctx) {
      const caller = unwrap(actOnSelf(await authenticate(deps, ctx), req.userId));
      const pending = unwrap(await enrollment.enroll(caller));
      return { totp: { ...pending, isPendingActivation: true } };
    },

    async activate(req, ctx) {
      new RequestCheck().text("token", req.token, 16).done();
      const caller = unwrap(actOnSelf(await authenticate(deps, ctx), req.userId));
      unwrap(await enrollment.activate(caller, req.token, req.secret || undefined));
      return {};
    },

    async eject(req, ctx) {
      const factor = req.secondaryAuthFactor;
      new RequestCheck()
        .that("secondaryAuthFactor", factor !== undefined, '"secondaryAuthFactor" is required', "missing")
        .that("secondaryAuthFactor.type", !factor || factor.type === "PASSWORD", '"secondaryAuthFactor.type" must be "PASSWORD"')
        .that("secondaryAuthFactor.token", !factor || factor.token !== "", '"secondaryAuthFactor.token" is required', "missing")
        .done();
      const self = await caller(ctx);
      unwrap(actOnSelf(self.account, req.userId));
      unwrap(await enrollment.eject(who(ctx), self, factor!.token));
      return {};
    },

    async generateRecoveryCodes(req, ctx) {
      const proof = req.secondaryAuthFactor;
      new RequestCheck()
        .that("secondaryAuthFactor", proof !== undefined, '"secondaryAuthFactor" is required', "missing")
        .that("secondaryAuthFactor.type", !proof || proof.type === "PASSWORD" || proof.type === "TOTP", '"secondaryAuthFactor.type" must be "PASSWORD" or "TOTP"')
        .that("secondaryAuthFactor.token", !proof || proof.token !== "", '"secondaryAuthFactor.token" is required', "missing")
        .done();
      // A session, else a Cosync `access-token` (app users have no other way to get codes).
      const accessToken = presentedToken(ctx.requestHeader, deps.cookie.name) ? null : ctx.requestHeader.get("access-token");
      const self = accessToken ? unwrap(await deps.appUsers.fromAccessToken(accessToken)).account : await authenticate(deps, ctx);
      const account = unwrap(actOnSelf(self, req.userId));
      return { codes: unwrap(await enrollment.generateRecoveryCodes(who(ctx), account, proof!)) };
    },
  };
}
