// PasskeyService: the caller registers, lists, renames and deletes their own passkeys. The
// browser's WebAuthn JSON travels as text (options_json, response_json): the core checks it.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { PasskeyService, type PasskeyInfoSchema } from "../../../gen/signin/session/v1/passkey_pb.js";
import type { SecondaryAuthFactor } from "../../../gen/signin/session/v1/session_pb.js";
import type { PasskeyInfo } from "../../core/passkeys/passkeys.js";
import type { Caller } from "../../core/sessions/sessions.js";
import { presenter } from "./authenticate.js";
import { presentedToken } from "./credentials.js";
import { who, type ServiceDeps } from "./deps.js";
import { reject, unwrap } from "./errors.js";
import { RequestCheck } from "./validate.js";

const ID = /^[0-9a-f]{24}$/;

export function passkeyService(deps: ServiceDeps): ServiceImpl<typeof PasskeyService> {
  const { passkeys } = deps;
  const caller = async (ctx: HandlerContext): Promise<Caller> => {
    const token = presentedToken(ctx.requestHeader, deps.cookie.name);
    return (token ? await deps.sessions.caller(token, presenter(ctx)) : null) ?? reject("NOT_AUTHENTICATED");
  };
  return {
    async authenticationOptions(_req, ctx) {
      return { optionsJson: JSON.stringify(unwrap(await deps.passkeyAssertions.options(who(ctx), deps.defaultAppId))) };
    },

    async registrationOptions(req, ctx) {
      const password = stepUpPassword(req.secondaryAuthFactor);
      const options = unwrap(await passkeys.registrationOptions(who(ctx), await caller(ctx), password));
      return { optionsJson: JSON.stringify(options) };
    },

    async register(req, ctx) {
      new RequestCheck().text("responseJson", req.responseJson, 8192).that("name", req.name.length <= 64, '"name" must be at most 64 characters').done();
      const passkey = unwrap(await passkeys.register(who(ctx), await caller(ctx), req.responseJson, req.name));
      return { passkey: message(passkey) };
    },

    async list(_req, ctx) {
      return { passkeys: (await passkeys.list(await caller(ctx))).map(message) };
    },

    async rename(req, ctx) {
      new RequestCheck().that("id", ID.test(req.id), '"id" must be a passkey id').text("name", req.name, 64).done();
      unwrap(await passkeys.rename(await caller(ctx), req.id, req.name));
      return {};
    },

    async delete(req, ctx) {
      const password = stepUpPassword(req.secondaryAuthFactor, () => new RequestCheck().that("id", ID.test(req.id), '"id" must be a passkey id'));
      unwrap(await passkeys.remove(who(ctx), await caller(ctx), req.id, password));
      return {};
    },
  };
}

/** The optional step-up password, `{type: "PASSWORD", token}`; anything else is a bad request. */
function stepUpPassword(factor: SecondaryAuthFactor | undefined, more: () => RequestCheck = () => new RequestCheck()): string | undefined {
  more()
    .that("secondaryAuthFactor.type", !factor || factor.type === "PASSWORD", '"secondaryAuthFactor.type" must be "PASSWORD"')
    .that("secondaryAuthFactor.token", !factor || factor.token !== "", '"secondaryAuthFactor.token" is required', "missing")
    .done();
  return factor?.token;
}

function message(p: PasskeyInfo): MessageInitShape<typeof PasskeyInfoSchema> {
  return {
    id: p.id,
    name: p.name,
    aaguid: p.aaguid,
    transports: p.transports,
    createdAt: timestampFromDate(p.createdAt),
    lastUsedAt: p.lastUsedAt ? timestampFromDate(p.lastUsedAt) : undefined,
  };
}
