// Step-up: an access token alone cannot remove or replace an ACTIVE second factor; only a token
// from a sign-in that passed that second factor minutes ago can (the Cosync SDK sends nothing
// else). Turning on a first factor stays as easy as the original. Refusals: Cosync 614, Connect
// permission_denied; a removal ends the account's other tokens, not the caller's.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppUserService } from "../gen/signin/appuser/v1/appuser_pb.js";
import { APP_TOKENS, COSYNC_APPS, cosync, md5, RR, SmsReceiver, WILE } from "./support/cosync.js";
import { startTestService, TOTP_SECRET, type TestService } from "./support/service.js";

const CALLER = { app: "phoneco", handle: "caller@phone.co", password: "ring-ring", phone: "+15555550100", phoneVerified: true, phoneTwoFactor: true };
const SIX_MINUTES = 6 * 60 * 1000;

describe("changing an active second factor needs a recent sign-in with it", () => {
  let svc: TestService;
  let sms: SmsReceiver;
  beforeAll(async () => {
    sms = await new SmsReceiver().start();
    svc = await startTestService({ SMS_WEBHOOK_URL: sms.url, SMS_WEBHOOK_SECRET: sms.secret }, [RR, WILE, CALLER], COSYNC_APPS);
    svc.clock.advance(-(svc.clock.now() % 30_000) + 5_000);
  });
  afterAll(async () => {
    await svc?.close();
    await sms?.close();
  });

  const login = (appToken: string, handle: string, password: string) => cosync(svc.url, "login", { handle, password: md5(password) }, { "app-token": appToken });
  let rrSecret = TOTP_SECRET;
  /** A Cosync login through TOTP: each call uses the next 30-second step (a code is accepted once). */
  const rrToken = async () => {
    svc.clock.advance(30_000);
    const first = await login(APP_TOKENS.acme, RR.handle, RR.password);
    const code = await generate({ secret: rrSecret, epoch: Math.floor(svc.clock.now() / 1000) });
    const done = await cosync(svc.url, "loginComplete", { loginToken: first.json["login-token"], code }, { "app-token": APP_TOKENS.acme });
    expect(done.status).toBe(200);
    return done.json["access-token"] as string;
  };
  const callerToken = async () => {
    const first = await login(APP_TOKENS.phone, CALLER.handle, CALLER.password);
    const done = await cosync(svc.url, "loginComplete", { loginToken: first.json["login-token"], code: sms.last().body.code }, { "app-token": APP_TOKENS.phone });
    expect(done.status).toBe(200);
    return done.json["access-token"] as string;
  };
  const google = (token: string, twoFactor: boolean) => cosync(svc.url, "setTwoFactorGoogleVerification", { twoFactor }, { "access-token": token });
  const user = (token: string) => cosync(svc.url, "getUser", null, { "access-token": token });

  it("an old token cannot remove or replace TOTP (614); a fresh one after a TOTP sign-in can, and the other tokens end", async () => {
    const old = await rrToken();
    svc.clock.advance(SIX_MINUTES);
    for (const on of [false, true]) {
      const refused = await google(old, on);
      expect([refused.status, refused.json.code]).toStrictEqual([400, 614]);
    }
    expect((await user(old)).json.twoFactorGoogleVerification).toBe(true);

    const fresh = await rrToken();
    const replaced = await google(fresh, true);
    expect(replaced.status).toBe(200);
    expect(replaced.json.googleSecretKey).toMatch(/^[A-Z2-7]{16,}$/);
    expect(replaced.json.googleSecretKey).not.toBe(TOTP_SECRET);
    expect((await user(old)).json.code).toBe(405); // the factor it signed in with is gone
    expect((await user(fresh)).status).toBe(200); // the caller's own token stays
    rrSecret = replaced.json.googleSecretKey;
  });

  it("turning on a first factor needs only a valid token, however old; turning it off then needs a sign-in with it", async () => {
    const token = (await login(APP_TOKENS.acme, WILE.handle, WILE.password)).json["access-token"] as string;
    svc.clock.advance(SIX_MINUTES);
    expect((await google(token, true)).status).toBe(200);
    const refused = await google(token, false); // signed in without a second factor
    expect([refused.status, refused.json.code]).toStrictEqual([400, 614]);
  });

  it("phone two-factor: an old token cannot turn it off or change the number (614); a fresh one can", async () => {
    const old = await callerToken();
    svc.clock.advance(SIX_MINUTES);
    const sent = sms.received.length;
    expect((await cosync(svc.url, "setTwoFactorPhoneVerification", { twoFactor: false }, { "access-token": old })).json.code).toBe(614);
    expect((await cosync(svc.url, "setPhone", { phone: "+15555550111" }, { "access-token": old })).json.code).toBe(614);
    expect(sms.received.length).toBe(sent); // refused before any SMS
    expect((await user(old)).json).toMatchObject({ phone: CALLER.phone, twoFactorPhoneVerification: true });

    const fresh = await callerToken();
    expect((await cosync(svc.url, "setTwoFactorPhoneVerification", { twoFactor: false }, { "access-token": fresh })).status).toBe(200);
    expect((await user(fresh)).json.twoFactorPhoneVerification).toBe(false);
  });

  it("over Connect the refusal is permission_denied, telling the app to sign in again", async () => {
    const old = await rrToken();
    svc.clock.advance(SIX_MINUTES);
    const client = createClient(AppUserService, createConnectTransport({ baseUrl: svc.url, httpVersion: "1.1" }));
    const err = await client.setTwoFactorGoogleVerification({ twoFactor: false }, { headers: { "access-token": old } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.PermissionDenied);
    expect((err as ConnectError).message).toMatch(/sign in again/);
  });
});
