// Every method that checks a password or a code counts against the sign-in's limits: a stolen
// session or access token is no unlimited oracle for the password (totp.eject) or for codes
// (totp.activate, verifyPhone).
import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP_TOKENS, COSYNC_APPS, cosync, md5, SmsReceiver } from "./support/cosync.js";
import { COYOTE, post, startTestService, type TestService } from "./support/service.js";

const MAX_TRIES = 12; // bounded loops: the limits below refuse well before

describe("factor methods are limited like sign-in", () => {
  let svc: TestService;
  let sms: SmsReceiver;
  const fresh = { app: "phoneco", handle: "fresh@phone.co", password: "fresh-pw" };
  const learner = { username: "learner", password: "learn-the-rules-1" };
  beforeAll(async () => {
    sms = await new SmsReceiver().start();
    svc = await startTestService(
      { SMS_WEBHOOK_URL: sms.url, SMS_WEBHOOK_SECRET: sms.secret, LIMIT_SECOND_FACTOR_FAILURES: "3/900" },
      [{ ...COYOTE, totpSecret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" }, learner, fresh],
      COSYNC_APPS,
    );
    svc.clock.advance(-(svc.clock.now() % 30_000) + 5_000);
  });
  afterAll(async () => {
    await svc?.close();
    await sms?.close();
  });

  const cookieOf = async (user: string, password: string, secondaryAuthFactor?: unknown) => {
    const res = await post(`${svc.url}/api/session.setCookie`, { user, password, secondaryAuthFactor });
    expect(res.json.ok).toBe(true);
    return res.headers.get("set-cookie")!.split(";")[0]!;
  };

  it("wrong passwords to totp.eject end in 10429, then even the right password is refused", async () => {
    const code = await generate({ secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", epoch: Math.floor(svc.clock.now() / 1000) });
    const cookie = await cookieOf("coyote", COYOTE.password, { type: "TOTP", token: code });
    const eject = (token: string) => post(`${svc.url}/api/totp.eject`, { secondaryAuthFactor: { type: "PASSWORD", token } }, { cookie }).then((r) => r.json);
    const codes: number[] = [];
    for (let i = 0; i < MAX_TRIES && codes[codes.length - 1] !== 10429; i++) codes.push((await eject(`wrong-${i}`)).error.code);
    expect(codes.slice(0, -1).every((c) => c === 10002)).toBe(true);
    expect(codes[codes.length - 1]).toBe(10429);
    expect((await eject(COYOTE.password)).error.code).toBe(10429);
    // The same budget as sign-in: the password is blocked there too, from this client.
    expect((await post(`${svc.url}/api/session.setCookie`, { user: "coyote", password: COYOTE.password })).json.error.code).toBe(10429);
  });

  it("wrong codes to totp.activate count against the second-factor limit", async () => {
    const cookie = await cookieOf(learner.username, learner.password);
    const call = (method: string, body: unknown) => post(`${svc.url}/api/totp.${method}`, body, { cookie }).then((r) => r.json);
    const { secret } = (await call("enroll", {})).totp;
    const code = await generate({ secret, epoch: Math.floor(svc.clock.now() / 1000) });
    const bad = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
    for (let i = 0; i < 3; i++) expect((await call("activate", { token: bad })).error.code).toBe(10031);
    expect((await call("activate", { token: bad })).error.code).toBe(10429);
    expect((await call("activate", { token: code })).error.code).toBe(10429);
  });

  it("wrong codes to verifyPhone count against the second-factor limit (HTTP 429)", async () => {
    const login = await cosync(svc.url, "login", { handle: fresh.handle, password: md5(fresh.password) }, { "app-token": APP_TOKENS.phone });
    const h = { "access-token": login.json["access-token"] as string };
    expect((await cosync(svc.url, "setPhone", { phone: "+15555550123" }, h)).status).toBe(200);
    const sent = sms.last().body.code;
    const wrong = String((Number(sent) + 1) % 1_000_000).padStart(6, "0");
    for (let i = 0; i < 3; i++) expect((await cosync(svc.url, "verifyPhone", { code: wrong }, h)).json.code).toBe(602);
    const refused = await cosync(svc.url, "verifyPhone", { code: sent }, h);
    expect([refused.status, refused.json.code]).toStrictEqual([429, 429]);
  });
});
