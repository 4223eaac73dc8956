// The Cosync-style login: /api/appuser/login and loginComplete, with the app's RS256 JWT
// checked against the JWKS endpoint, every documented error code, and the login token's
// single use, expiry and attempt limit.
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP_TOKENS, COSYNC_APPS, COSYNC_USERS, cosync, md5, RR, SmsReceiver, WILE } from "./support/cosync.js";
import { startTestService, TOTP_SECRET, type TestService } from "./support/service.js";

describe("Cosync-style login", () => {
  let svc: TestService;
  let sms: SmsReceiver;
  beforeAll(async () => {
    sms = await new SmsReceiver().start();
    svc = await startTestService({ SMS_WEBHOOK_URL: sms.url, SMS_WEBHOOK_SECRET: sms.secret }, COSYNC_USERS, COSYNC_APPS);
    svc.clock.advance(-(svc.clock.now() % 30_000) + 5_000);
  });
  afterAll(async () => {
    await svc?.close();
    await sms?.close();
  });

  const acme = { "app-token": APP_TOKENS.acme };
  const login = (handle: string, password: string, headers: Record<string, string> = acme) =>
    cosync(svc.url, "login", { handle, password: md5(password) }, headers);
  const totpNow = () => generate({ secret: TOTP_SECRET, epoch: Math.floor(svc.clock.now() / 1000) });

  it("answers exactly {jwt, access-token}; the jwt verifies against the JWKS endpoint with aud, exp, kid and metadata", async () => {
    const res = await login(WILE.handle, WILE.password);
    expect(res.status).toBe(200);
    // device-token: ours (issue 16, the device credential to send back as deviceToken); clients ignore extra keys.
    expect(Object.keys(res.json).sort()).toStrictEqual(["access-token", "device-token", "jwt"]);
    const jwks = createRemoteJWKSet(new URL(`${svc.url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(res.json.jwt, jwks, {
      algorithms: ["RS256"],
      audience: "acme-realm",
      currentDate: new Date(svc.clock.now()),
    });
    expect(protectedHeader.kid).toBeTruthy();
    expect(payload.sub).toBe(WILE.handle);
    expect(payload.email).toBe(WILE.handle);
    expect(payload.exp! - payload.iat!).toBe(24 * 3600);
    // Only the declared metadata field, under the root of its path.
    expect(payload.user_data).toStrictEqual({ role: "admin" });
    await expect(jwtVerify(res.json.jwt, jwks, { algorithms: ["RS256"], audience: "other-realm" })).rejects.toThrow();
    const access = decodeJwt(res.json["access-token"]);
    expect(access).toMatchObject({ handle: WILE.handle, appId: "acme", scope: "user" });
    expect(access.exp! - access.iat!).toBe(24 * 3600);
  });

  it("accepts form-urlencoded bodies (the Swift SDK)", async () => {
    const res = await fetch(`${svc.url}/api/appuser/login`, {
      method: "POST",
      headers: { ...acme, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ handle: WILE.handle, password: md5(WILE.password) }).toString(),
    });
    expect(res.status).toBe(200);
    expect(Object.keys((await res.json()) as object).sort()).toStrictEqual(["access-token", "device-token", "jwt"]);
  });

  it.each([
    ["no app-token", {}, WILE.handle, WILE.password, 400],
    ["a wrong app-token", { "app-token": "nope" }, WILE.handle, WILE.password, 400],
    ["a deleted app", { "app-token": APP_TOKENS.deleted }, "g@gone.io", "pw-gone-away", 401],
    ["a suspended app", { "app-token": APP_TOKENS.suspended }, "p@paused.io", "pw-paused", 402],
    ["a suspended user", acme, "banned@acme.com", "banned-pw", 404],
    ["a wrong password", acme, WILE.handle, "wrong", 600],
    ["an unknown handle", acme, "nobody@acme.com", WILE.password, 600],
    ["missing required metadata", acme, "nometa@acme.com", "no-metadata", 604],
  ])("%s: HTTP 400 with the documented code", async (_name, headers, handle, password, code) => {
    const res = await login(handle, password, headers as Record<string, string>);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code });
    expect(typeof res.json.message).toBe("string");
    expect(Object.keys(res.json).sort()).toStrictEqual(["code", "message"]);
  });

  it("unknown handle and wrong password give the same body", async () => {
    expect((await login("nobody@acme.com", "x")).text).toBe((await login(WILE.handle, "x")).text);
  });

  it("missing parameters answer 403; a password that is not md5 hex answers 602", async () => {
    expect((await cosync(svc.url, "login", { handle: WILE.handle }, acme)).json.code).toBe(403);
    expect((await cosync(svc.url, "login", { password: md5("x") }, acme)).json.code).toBe(403);
    expect((await cosync(svc.url, "login", { handle: WILE.handle, password: WILE.password }, acme)).json.code).toBe(602);
    expect((await cosync(svc.url, "login", { handle: WILE.handle, password: "z".repeat(32) }, acme)).json.code).toBe(602);
  });

  describe("google two-factor", () => {
    it("login answers only a login-token; loginComplete with the TOTP code answers the tokens, once", async () => {
      const first = await login(RR.handle, RR.password);
      expect(first.status).toBe(200);
      expect(Object.keys(first.json)).toStrictEqual(["login-token"]);
      const loginToken = first.json["login-token"];

      const wrongCode = String((Number(await totpNow()) + 1) % 1_000_000).padStart(6, "0");
      const wrong = await cosync(svc.url, "loginComplete", { loginToken, code: wrongCode }, acme);
      expect(wrong.status).toBe(400);
      expect(wrong.json.code).toBe(600);

      const code = await totpNow();
      const done = await cosync(svc.url, "loginComplete", { loginToken, code }, acme);
      expect(done.status).toBe(200);
      expect(Object.keys(done.json).sort()).toStrictEqual(["access-token", "device-token", "jwt"]);
      expect(decodeJwt(done.json.jwt).sub).toBe(RR.handle);

      // The token is spent, and the TOTP code cannot be used again with a new one.
      expect((await cosync(svc.url, "loginComplete", { loginToken, code }, acme)).json.code).toBe(613);
      const again = (await login(RR.handle, RR.password)).json["login-token"];
      expect((await cosync(svc.url, "loginComplete", { loginToken: again, code }, acme)).json.code).toBe(600);
    });

    it("a login token dies after 5 wrong codes, even for the right one after", async () => {
      svc.clock.advance(30_000);
      const loginToken = (await login(RR.handle, RR.password)).json["login-token"];
      const right = await totpNow();
      const wrong = String((Number(right) + 500_000) % 1_000_000).padStart(6, "0");
      for (let i = 0; i < 5; i++) expect((await cosync(svc.url, "loginComplete", { loginToken, code: wrong }, acme)).json.code).toBe(600);
      expect((await cosync(svc.url, "loginComplete", { loginToken, code: right }, acme)).json.code).toBe(613);
    });

    it("a login token expires after 5 minutes", async () => {
      svc.clock.advance(30_000);
      const loginToken = (await login(RR.handle, RR.password)).json["login-token"];
      svc.clock.advance(5 * 60 * 1000 + 1000);
      expect((await cosync(svc.url, "loginComplete", { loginToken, code: await totpNow() }, acme)).json.code).toBe(613);
    });

    it("a login token is bound to its app, and garbage is 613; a non-numeric code is 602", async () => {
      svc.clock.advance(30_000);
      const loginToken = (await login(RR.handle, RR.password)).json["login-token"];
      const other = await cosync(svc.url, "loginComplete", { loginToken, code: await totpNow() }, { "app-token": APP_TOKENS.phone });
      expect(other.json.code).toBe(613);
      expect((await cosync(svc.url, "loginComplete", { loginToken: "x".repeat(43), code: "123456" }, acme)).json.code).toBe(613);
      expect((await cosync(svc.url, "loginComplete", { loginToken, code: "12ab56" }, acme)).json.code).toBe(602);
      expect((await cosync(svc.url, "loginComplete", { code: "123456" }, acme)).json.code).toBe(403);
      expect((await cosync(svc.url, "loginComplete", { loginToken, code: await totpNow() }, acme)).status).toBe(200);
    });
  });

  describe("phone two-factor", () => {
    const phone = { "app-token": APP_TOKENS.phone };

    it("login sends a fresh 6-digit code to the verified phone through the signed webhook; loginComplete takes it", async () => {
      const before = sms.received.length;
      const res = await login("caller@phone.co", "ring-ring", phone);
      expect(Object.keys(res.json)).toStrictEqual(["login-token"]);
      expect(sms.received.length).toBe(before + 1);
      const sent = sms.last();
      expect(sent.body).toMatchObject({ to: "+15555550100", appId: "phoneco", purpose: "login" });
      expect(sent.body.code).toMatch(/^\d{6}$/);
      expect(sms.validSignature(sent)).toBe(true);
      expect(svc.logs.some((l) => JSON.stringify(l).includes(sent.body.code))).toBe(false);

      const done = await cosync(svc.url, "loginComplete", { loginToken: res.json["login-token"], code: sent.body.code }, phone);
      expect(done.status).toBe(200);
      expect(decodeProtectedHeader(done.json.jwt).alg).toBe("RS256");
      expect(decodeJwt(done.json.jwt).aud).toBe("phone-realm");
    });

    it("each login sends a different code and the old one does not work with the new token", async () => {
      const a = (await login("caller@phone.co", "ring-ring", phone)).json["login-token"];
      const codeA = sms.last().body.code;
      const b = (await login("caller@phone.co", "ring-ring", phone)).json["login-token"];
      const codeB = sms.last().body.code;
      if (codeA !== codeB) expect((await cosync(svc.url, "loginComplete", { loginToken: b, code: codeA }, phone)).json.code).toBe(600);
      expect((await cosync(svc.url, "loginComplete", { loginToken: a, code: codeA }, phone)).status).toBe(200);
    });

    it("when the SMS cannot be sent: HTTP 500 with a retryable message and no login token", async () => {
      sms.failNext = 1;
      const res = await login("caller@phone.co", "ring-ring", phone);
      expect(res.status).toBe(500);
      expect(res.json).toMatchObject({ code: 500 });
      expect(res.json.message).toMatch(/try again/);
      expect(res.headers.get("retry-after")).toBe("30");
      expect((await login("caller@phone.co", "ring-ring", phone)).json["login-token"]).toBeTruthy();
    });
  });
});
