// SessionService: sign-in with a cookie or a bearer token, refresh (rotation) and sign-out.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { IssueTokenRequest, SetCookieRequest } from "../../../gen/signin/session/v1/session_pb.js";
import { SessionService } from "../../../gen/signin/session/v1/session_pb.js";
import type { IssuedSession } from "../../core/sessions/sessions.js";
import type { Account } from "../../core/accounts/account.js";
import type { RequestContext } from "../../core/request-context.js";
import type { SignInMethod } from "../../core/sign-in/sign-in.js";
import { ok } from "../../core/failure.js";
import { MAX_PASSWORD_LENGTH } from "../../core/password/policy.js";
import { MAX_DEVICE_TOKEN_LENGTH } from "../../core/devices/device-credential.js";
import { clearedCookie, cookieValue, deviceCookie, presentedToken, sessionCookie } from "./credentials.js";
import { presenter } from "./authenticate.js";
import { who, type ServiceDeps } from "./deps.js";
import { reject, unwrap } from "./errors.js";
import { sessionMessage } from "./session-message.js";
import { RequestCheck } from "./validate.js";

const MAX_LOGIN_LENGTH = 320;
const MAX_TOKEN_LENGTH = 4096;
/** A passkey assertion's JSON (a few hundred bytes, more with a large user handle or extensions). */
const MAX_ASSERTION_LENGTH = 8192;
/** A session id is a `sid` (32 characters) or a `jti` (22). */
const MAX_SESSION_ID_LENGTH = 64;

/** A sign-in's session and the device credential to hand out with it. */
interface SignedInSession {
  session: IssuedSession;
  deviceToken: string;
}

export function sessionService(deps: ServiceDeps): ServiceImpl<typeof SessionService> {
  const { sessions } = deps;

  async function signIn(req: SetCookieRequest | IssueTokenRequest, ctx: HandlerContext): Promise<SignedInSession> {
    if (req.passkey) return withPasskey(req, ctx);
    const factor = req.secondaryAuthFactor;
    new RequestCheck()
      .text("user", req.user, MAX_LOGIN_LENGTH)
      .text("password", req.password, MAX_PASSWORD_LENGTH)
      .that("deviceToken", req.deviceToken.length <= MAX_DEVICE_TOKEN_LENGTH, `"deviceToken" must be at most ${MAX_DEVICE_TOKEN_LENGTH} characters`)
      .that("secondaryAuthFactor.type", !factor || factor.type !== "", '"secondaryAuthFactor.type" is required', "missing")
      .that("secondaryAuthFactor.type", factor?.type !== "PASSWORD", '"secondaryAuthFactor.type" must not be "PASSWORD"')
      .that("secondaryAuthFactor.token", !factor || factor.token !== "", '"secondaryAuthFactor.token" is required', "missing")
      .done();
    const { defaultAppId: id } = deps;
    // The device credential: sent in the body (API callers), else the browser's `device` cookie.
    const deviceToken = req.deviceToken || cookieValue(ctx.requestHeader.get("cookie"), deps.cookie.deviceName) || undefined;
    const step = { ctx: { ...who(ctx), deviceToken }, app: { id, lookup: deps.apps.findById(id) }, login: req.user, password: req.password, form: "plain" as const, secondFactor: factor, rememberDevice: req.rememberDevice };
    const outcome = unwrap(await deps.signIn.withPassword(step, startSession(req, ctx, step.ctx)));
    if (outcome.status === "signed_in") return { session: outcome.credentials, deviceToken: outcome.deviceToken };
    return reject("SECOND_FACTOR_REQUIRED", {
      message: `User "${req.user}" has enabled MFA; please specify secondary authentication factor`,
      applicableAuthFactorTypes: outcome.factors,
    });
  }

  /** Passwordless: the passkey's assertion stands for the user, the password and the second factor. */
  async function withPasskey(req: SetCookieRequest | IssueTokenRequest, ctx: HandlerContext): Promise<SignedInSession> {
    new RequestCheck()
      .that("user", req.user === "", '"user" must be empty with "passkey"')
      .that("password", req.password === "", '"password" must be empty with "passkey"')
      .that("secondaryAuthFactor", req.secondaryAuthFactor === undefined, '"secondaryAuthFactor" must be absent with "passkey"')
      .that("deviceToken", req.deviceToken.length <= MAX_DEVICE_TOKEN_LENGTH, `"deviceToken" must be at most ${MAX_DEVICE_TOKEN_LENGTH} characters`)
      .that("passkey", req.passkey.length <= MAX_ASSERTION_LENGTH, `"passkey" must be at most ${MAX_ASSERTION_LENGTH} characters`)
      .done();
    const deviceToken = req.deviceToken || cookieValue(ctx.requestHeader.get("cookie"), deps.cookie.deviceName) || undefined;
    const step = { ctx: { ...who(ctx), deviceToken }, appId: deps.defaultAppId, assertion: req.passkey, rememberDevice: req.rememberDevice };
    const outcome = unwrap(await deps.signIn.withPasskey(step, startSession(req, ctx, step.ctx)));
    return { session: outcome.credentials, deviceToken: outcome.deviceToken };
  }

  /** Issue<IssuedSession>: a cookie or bearer session, recording whether a second factor was passed. */
  const startSession = (req: SetCookieRequest | IssueTokenRequest, ctx: HandlerContext, at: RequestContext) => async (account: Account, _app: unknown, how: SignInMethod) => {
    const projection = { profile: req.projection?.profile ?? false, permissions: req.projection?.permissions ?? false };
    return ok(sessions.start(account, projection, { secondFactor: how.secondFactor !== null, kind: ctx.method.name === "SetCookie" ? "cookie" : "bearer", ctx: at, deviceId: how.deviceId }));
  };

  const setCookie = (ctx: HandlerContext, s: IssuedSession) =>
    ctx.responseHeader.append("set-cookie", sessionCookie(deps.cookie, s.token, s.endsAt, deps.clock.now()));
  const cookieToken = (ctx: HandlerContext) =>
    presentedToken(ctx.requestHeader, deps.cookie.name) ?? reject("NOT_AUTHENTICATED");
  const checkToken = (token: string) => new RequestCheck().text("token", token, MAX_TOKEN_LENGTH).done();

  /**
   * Whose sessions a session-list call is about, and which one is the caller's: the session the
   * request presents (cookie or bearer; its chain id), else a Cosync `access-token` header (its `jti`),
   * so an app user reaches the same list with the token the app already holds.
   */
  async function owner(ctx: HandlerContext): Promise<{ accountId: string; current: string }> {
    const token = presentedToken(ctx.requestHeader, deps.cookie.name);
    if (token) {
      const caller = (await sessions.caller(token, presenter(ctx))) ?? reject("NOT_AUTHENTICATED");
      return { accountId: caller.account.id, current: caller.session.chain };
    }
    const accessToken = ctx.requestHeader.get("access-token");
    if (!accessToken) return reject("NOT_AUTHENTICATED");
    const user = unwrap(await deps.appUsers.fromAccessToken(accessToken));
    return { accountId: user.account.id, current: user.token.tokenId };
  }

  return {
    async setCookie(req, ctx) {
      const { session, deviceToken } = await signIn(req, ctx);
      setCookie(ctx, session);
      ctx.responseHeader.append("set-cookie", deviceCookie(deps.cookie, deviceToken));
      return { user: { id: session.accountId } };
    },

    async refreshCookie(_req, ctx) {
      const session = (await sessions.refresh(cookieToken(ctx), presenter(ctx))) ?? reject("NOT_AUTHENTICATED");
      setCookie(ctx, session);
      return { user: { id: session.accountId } };
    },

    async destroyCookie(_req, ctx) {
      if (!(await sessions.end(cookieToken(ctx), presenter(ctx)))) reject("NOT_AUTHENTICATED");
      ctx.responseHeader.append("set-cookie", clearedCookie(deps.cookie));
      return {};
    },

    async issueToken(req, ctx) {
      const { session, deviceToken } = await signIn(req, ctx);
      return { token: session.token, expiresAt: timestampFromDate(session.expiresAt), deviceToken };
    },

    async refreshToken(req, ctx) {
      checkToken(req.token);
      const session = (await sessions.refresh(req.token, presenter(ctx))) ?? reject("INVALID_TOKEN");
      return { token: session.token, expiresAt: timestampFromDate(session.expiresAt) };
    },

    async destroyToken(req, ctx) {
      checkToken(req.token);
      if (!(await sessions.end(req.token, presenter(ctx)))) reject("INVALID_TOKEN");
      return {};
    },

    async listSessions(_req, ctx) {
      const { accountId, current } = await owner(ctx);
      const listed = await deps.sessionList.list(accountId, current);
      return {
        sessions: listed.map(sessionMessage),
      };
    },

    async revokeSession(req, ctx) {
      const { accountId } = await owner(ctx);
      new RequestCheck().text("id", req.id, MAX_SESSION_ID_LENGTH).done();
      unwrap(await deps.sessionList.revoke(who(ctx), accountId, req.id, "user"));
      return {};
    },

    async revokeOtherSessions(_req, ctx) {
      const { accountId, current } = await owner(ctx);
      return { revoked: await deps.sessionList.revokeOthers(who(ctx), accountId, current) };
    },
  };
}
