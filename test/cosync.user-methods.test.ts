// The Cosync-style user methods, authenticated by the `access-token` header alone (the
// original JS client drops `app-token` once signed in), and one account on both surfaces.
import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP_TOKENS, COSYNC_APPS, COSYNC_USERS, cosync, md5, SmsReceiver, WILE } from "./support/cosync.js";
import { post, startTestService, type TestService } from "./support/service.js";

describe("Cosync-style user methods", () => {
  let svc: TestService;
  let sms: SmsReceiver;
  beforeAll(async () => {
    sms = await new SmsReceiver().start();
    // DEFAULT_APP=acme: the Yeep-style API serves the same accounts.
    svc = await startTestService(
      { SMS_WEBHOOK_URL: sms.url, SMS_WEBHOOK_SECRET: sms.secret, DEFAULT_APP: "acme" },
      COSYNC_USERS,
      COSYNC_APPS,
    );
    svc.clock.advance(-(svc.clock.now() % 30_000) + 5_000);
  });
  afterAll(async () => {
    await svc?.close();
    await sms?.close();
  });

  const accessToken = async (appToken: string, handle: string, password: string) =>
    (await cosync(svc.url, "login", { handle, password: md5(password) }, { "app-token": appToken })).json["access-token"] as string;

  it("getUser (GET, access-token only) describes the user", async () => {
    const token = await accessToken(APP_TOKENS.acme, WILE.handle, WILE.password);
    const res = await cosync(svc.url, "getUser", null, { "access-token": token });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      handle: WILE.handle,
      appId: "acme",
      metaData: WILE.metadata,
      phoneVerified: false,
      twoFactorPhoneVerification: false,
      twoFactorGoogleVerification: false,
    });
    expect(res.json.code).toBeUndefined();
  });

  it("a bad or missing access token answers 405", async () => {
    const bad: Record<string, string>[] = [{}, { "access-token": "garbage" }, { "access-token": (await accessToken(APP_TOKENS.acme, WILE.handle, WILE.password)).slice(0, -3) + "abc" }];
    for (const headers of bad) {
      const res = await cosync(svc.url, "getUser", null, headers);
      expect(res.status).toBe(400);
      expect(res.json.code).toBe(405);
    }
  });

  it("an access token expires (ACCESS_TOKEN_TTL, 24 h by default)", async () => {
    const token = await accessToken(APP_TOKENS.acme, WILE.handle, WILE.password);
    svc.clock.advance(24 * 3600 * 1000 + 1000);
    expect((await cosync(svc.url, "getUser", null, { "access-token": token })).json.code).toBe(405);
  });

  it("setPhone (E.164) sends a code; verifyPhone checks it; phone two-factor needs a verified phone (410) in a phone app (409)", async () => {
    const token = await accessToken(APP_TOKENS.phone, "fresh@phone.co", "fresh-pw");
    const h = { "access-token": token };
    expect((await cosync(svc.url, "setPhone", { phone: "555-0100" }, h)).json.code).toBe(602);
    expect((await cosync(svc.url, "setTwoFactorPhoneVerification", { twoFactor: true }, h)).json.code).toBe(410);

    expect((await cosync(svc.url, "setPhone", { phone: "+15555550199" }, h)).status).toBe(200);
    const sent = sms.last();
    expect(sent.body).toMatchObject({ to: "+15555550199", appId: "phoneco", purpose: "verify-phone" });
    const wrong = String((Number(sent.body.code) + 1) % 1_000_000).padStart(6, "0");
    expect((await cosync(svc.url, "verifyPhone", { code: wrong }, h)).json.code).toBe(602);
    expect((await cosync(svc.url, "verifyPhone", { code: sent.body.code }, h)).status).toBe(200);
    expect((await cosync(svc.url, "verifyPhone", { code: sent.body.code }, h)).json.code).toBe(602); // spent
    expect((await cosync(svc.url, "getUser", null, h)).json).toMatchObject({ phone: "+15555550199", phoneVerified: true });

    expect((await cosync(svc.url, "setTwoFactorPhoneVerification", { twoFactor: true }, h)).status).toBe(200);
    const login = await cosync(svc.url, "login", { handle: "fresh@phone.co", password: md5("fresh-pw") }, { "app-token": APP_TOKENS.phone });
    expect(Object.keys(login.json)).toStrictEqual(["login-token"]);
    expect(sms.last().body).toMatchObject({ to: "+15555550199", purpose: "login" });

    const acme = { "access-token": await accessToken(APP_TOKENS.acme, WILE.handle, WILE.password) };
    expect((await cosync(svc.url, "setTwoFactorPhoneVerification", { twoFactor: true }, acme)).json.code).toBe(409);
  });

  it("setTwoFactorGoogleVerification answers {googleSecretKey, QRDataImage}; login then needs the code (form bodies too)", async () => {
    const token = await accessToken(APP_TOKENS.acme, WILE.handle, WILE.password);
    const res = await fetch(`${svc.url}/api/appuser/setTwoFactorGoogleVerification`, {
      method: "POST",
      headers: { "access-token": token, "content-type": "application/x-www-form-urlencoded" },
      body: "twoFactor=true",
    });
    const json = (await res.json()) as { googleSecretKey: string; QRDataImage: string };
    expect(Object.keys(json).sort()).toStrictEqual(["QRDataImage", "googleSecretKey"]);
    expect(json.QRDataImage).toMatch(/^data:image\/png;base64,/);
    const login = await cosync(svc.url, "login", { handle: WILE.handle, password: md5(WILE.password) }, { "app-token": APP_TOKENS.acme });
    const loginToken = login.json["login-token"];
    expect(loginToken).toBeTruthy();
    const code = await generate({ secret: json.googleSecretKey, epoch: Math.floor(svc.clock.now() / 1000) });
    const completed = await cosync(svc.url, "loginComplete", { loginToken, code }, { "app-token": APP_TOKENS.acme });
    expect(completed.status).toBe(200);

    // A phone app has no google two-factor.
    const phoneApp = { "access-token": await accessToken(APP_TOKENS.phone, "plain@phone.co", "plain-pw") };
    expect((await cosync(svc.url, "setTwoFactorGoogleVerification", { twoFactor: true }, phoneApp)).json.code).toBe(408);

    // Removing the active factor takes a token from a sign-in with it (step-up), not the older one.
    expect((await cosync(svc.url, "setTwoFactorGoogleVerification", { twoFactor: false }, { "access-token": token })).json.code).toBe(614);
    const off = await cosync(svc.url, "setTwoFactorGoogleVerification", { twoFactor: false }, { "access-token": completed.json["access-token"] });
    expect(off.json).toStrictEqual({});
    const plain = await cosync(svc.url, "login", { handle: WILE.handle, password: md5(WILE.password) }, { "app-token": APP_TOKENS.acme });
    expect(Object.keys(plain.json).sort()).toStrictEqual(["access-token", "device-token", "jwt"]); // device-token: issue 16
  });

  it("one account signs in on both surfaces: Yeep-style with the plain password, Cosync-style with its md5", async () => {
    const yeep = await post(`${svc.url}/api/session.setCookie`, { user: WILE.handle, password: WILE.password });
    expect(yeep.json.ok).toBe(true);
    const cos = await cosync(svc.url, "login", { handle: WILE.handle, password: md5(WILE.password) }, { "app-token": APP_TOKENS.acme });
    expect(cos.status).toBe(200);
    // The md5 itself is not the Yeep-style password.
    expect((await post(`${svc.url}/api/session.setCookie`, { user: WILE.handle, password: md5(WILE.password) })).json.error.code).toBe(10002);
  });
});
