// AppUserService (Cosync-style): login with an md5-hex password for the app named by the
// `app-token` header, two-factor completion, and the user methods behind `access-token`.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { AppUserService } from "../../../gen/signin/appuser/v1/appuser_pb.js";
import type { AppUser } from "../../core/app-users/app-users.js";
import type { Issue } from "../../core/sign-in/sign-in.js";
import type { AppUserTokens } from "../../core/tokens/app-tokens.js";
import { E164 } from "../../core/otp/sms.js";
import { normalRecoveryCode } from "../../core/otp/recovery-codes.js";
import { MAX_DEVICE_TOKEN_LENGTH } from "../../core/devices/device-credential.js";
import { who, type ServiceDeps } from "./deps.js";
import { unwrap } from "./errors.js";
import { RequestCheck } from "./validate.js";

const MD5_HEX = /^[0-9a-fA-F]{32}$/;
const CODE = /^\d{6}$/;

export function appUserService(deps: ServiceDeps): ServiceImpl<typeof AppUserService> {
  const appOf = async (ctx: HandlerContext) => unwrap(await deps.signIn.appForToken(who(ctx), ctx.requestHeader.get("app-token")));
  const userOf = async (ctx: HandlerContext): Promise<AppUser> =>
    unwrap(await deps.appUsers.fromAccessToken(ctx.requestHeader.get("access-token")));
  const checkCode = (field: string, code: string) =>
    new RequestCheck().text(field, code, 16).that(field, code === "" || CODE.test(code), `"${field}" must be six digits`).done();
  const checkDeviceToken = (token: string) =>
    new RequestCheck().that("deviceToken", token.length <= MAX_DEVICE_TOKEN_LENGTH, `"deviceToken" must be at most ${MAX_DEVICE_TOKEN_LENGTH} characters`).done();
  // Cosync clients keep their tokens themselves: the device token comes in the body, never in a cookie.
  const withDevice = (ctx: HandlerContext, deviceToken: string) => ({ ...who(ctx), deviceToken: deviceToken || undefined });
  // The access-token's record (session list) names the request it is issued to.
  const issueTokens =
    (ctx: HandlerContext): Issue<AppUserTokens> =>
    (account, app, how) =>
      deps.appUsers.issue(who(ctx), app, account, how);

  return {
    async login(req, ctx) {
      const app = await appOf(ctx);
      new RequestCheck()
        .text("handle", req.handle, 320)
        .text("password", req.password, 32)
        .that("password", req.password === "" || MD5_HEX.test(req.password), '"password" must be the MD5 hex of the password')
        .done();
      checkDeviceToken(req.deviceToken);
      const step = { ctx: withDevice(ctx, req.deviceToken), app, login: req.handle, password: req.password, form: "md5hex" as const, continueWithLoginToken: true };
      const outcome = unwrap(await deps.signIn.withPassword(step, issueTokens(ctx)));
      // The device token only with the tokens (a login-token answer is not a sign-in yet).
      return outcome.status === "signed_in" ? { ...outcome.credentials, deviceToken: outcome.deviceToken } : { loginToken: outcome.loginToken };
    },

    async loginComplete(req, ctx) {
      const app = await appOf(ctx);
      new RequestCheck().text("loginToken", req.loginToken, 128).done();
      // Six digits, or a recovery code in their place (`xxxxx-xxxxx`; case, spaces and dashes ignored).
      new RequestCheck()
        .text("code", req.code, 32)
        .that("code", req.code === "" || CODE.test(req.code) || normalRecoveryCode(req.code) !== null, '"code" must be six digits or a recovery code')
        .done();
      checkDeviceToken(req.deviceToken);
      const signedIn = unwrap(await deps.signIn.complete({ ctx: withDevice(ctx, req.deviceToken), app, loginToken: req.loginToken, code: req.code, rememberDevice: req.rememberDevice }, issueTokens(ctx)));
      return { ...signedIn.credentials, deviceToken: signedIn.deviceToken };
    },

    async getUser(_req, ctx) {
      const { app, account } = await userOf(ctx);
      return {
        handle: account.email ?? account.username,
        appId: app.id,
        metaData: account.metadata as never,
        phone: account.phone ?? "",
        phoneVerified: account.phoneVerified,
        twoFactorPhoneVerification: account.phoneTwoFactor,
        twoFactorGoogleVerification: account.totpSecret !== null,
        createdAt: timestampFromDate(account.createdAt),
      };
    },

    async setPhone(req, ctx) {
      const user = await userOf(ctx);
      new RequestCheck()
        .text("phone", req.phone, 16)
        .that("phone", req.phone === "" || E164.test(req.phone), '"phone" must be E.164, e.g. +15555550100')
        .done();
      unwrap(await deps.appUsers.setPhone(who(ctx), user, req.phone));
      return {};
    },

    async verifyPhone(req, ctx) {
      const user = await userOf(ctx);
      checkCode("code", req.code);
      unwrap(await deps.appUsers.verifyPhone(user, req.code));
      return {};
    },

    async setTwoFactorPhoneVerification(req, ctx) {
      unwrap(await deps.appUsers.setPhoneTwoFactor(await userOf(ctx), req.twoFactor));
      return {};
    },

    async setTwoFactorGoogleVerification(req, ctx) {
      const enabled = unwrap(await deps.appUsers.setGoogleTwoFactor(await userOf(ctx), req.twoFactor));
      return enabled ? { googleSecretKey: enabled.secret, qrDataImage: enabled.qrcode } : {};
    },
  };
}
