// "Remember this device" end to end (real Redis, PGlite, the wire): Yeep-style with the `device`
// cookie, Cosync-style with `deviceToken`; what ends a remembered device (a new password, a factor
// change), an app that does not remember, and the Cosync SDK's flow without the flag, unchanged.
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../gen/signin/admin/v1/admin_pb.js";
import { cosync, md5 } from "./support/cosync.js";
import { COYOTE, post, ROADRUNNER, startTestService, TOTP_SECRET, type TestService } from "./support/service.js";

const ADMIN_TOKEN = "admin-token-for-the-remember-tests-0123456789";
const KEEPER_TOKEN = "keeper-app-token-0123456789abcdef";
const FORGETFUL_TOKEN = "forgetful-app-token-0123456789abc";
const APPS = [
  { id: "keeper", appToken: KEEPER_TOKEN, twoFactor: "google", passwordPrehash: "md5", rememberDeviceDays: 30 },
  // rememberDeviceDays left out: 0, devices are never remembered.
  { id: "forgetful", appToken: FORGETFUL_TOKEN, twoFactor: "google", passwordPrehash: "md5" },
];
const bird = (app: string) => ({ app, handle: `rr@${app}.io`, password: "meep-meep-42", totpSecret: TOTP_SECRET, googleTwoFactor: true });

describe("remember this device", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ ADMIN_TOKEN }, [COYOTE, ROADRUNNER, bird("keeper"), bird("forgetful")], APPS);
    svc.clock.advance(-(svc.clock.now() % 30_000) + 5_000);
  });
  afterAll(() => svc?.close());

  const admin = () =>
    createClient(AdminService, createConnectTransport({ baseUrl: svc.url, httpVersion: "1.1", interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${ADMIN_TOKEN}`), next(req))] }));
  // A code is accepted once per 30-second step: each use moves the clock to the next step.
  const codeOf = (secret: string) => (svc.clock.advance(30_000), generate({ secret, epoch: Math.floor(svc.clock.now() / 1000) }));

  describe("Yeep-style, with the device cookie", () => {
    let password = ROADRUNNER.password;
    const setCookie = (body: object, cookie?: string) =>
      post(`${svc.url}/api/session.setCookie`, { user: ROADRUNNER.email, password, ...body }, cookie ? { cookie } : {});
    const cookieOf = (res: { headers: Headers }, name: string) => res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`))?.split(";")[0];
    /** Signs in with the code, asking to remember the device: its `device` cookie and the session's. */
    const remembered = async (secret = TOTP_SECRET) => {
      const res = await setCookie({ secondaryAuthFactor: { type: "TOTP", token: await codeOf(secret) }, rememberDevice: true });
      expect(res.json).toMatchObject({ ok: true });
      return { device: cookieOf(res, "device")!, session: cookieOf(res, "session")! };
    };

    it("the next sign-in with the device cookie needs no code; without the cookie it does", async () => {
      const { device } = await remembered();
      const again = await setCookie({}, device);
      expect(again.json).toMatchObject({ ok: true, user: { id: ROADRUNNER.id } });
      expect((await post(`${svc.url}/api/user.info`, {}, { cookie: cookieOf(again, "session")! })).json).toMatchObject({ ok: true, user: { id: ROADRUNNER.id } });
      expect((await setCookie({})).json).toMatchObject({ ok: false, error: { code: 10034 } });
      // A device cookie from a sign-in that did not ask to be remembered does not skip it.
      const plain = await setCookie({ secondaryAuthFactor: { type: "TOTP", token: await codeOf(TOTP_SECRET) } });
      expect((await setCookie({}, cookieOf(plain, "device"))).json.error.code).toBe(10034);
      const audit = svc.logs.filter((l) => l.audit && l.accountId === ROADRUNNER.id).map((l) => l.event);
      expect(audit).toContain("second_factor.remembered");
    });

    it("the session list flags the remembered device's sessions; signing one out there forgets the device", async () => {
      const { device, session } = await remembered();
      const again = await setCookie({}, device);
      const other = await post(`${svc.url}/api/session.issueToken`, { user: ROADRUNNER.email, password, secondaryAuthFactor: { type: "TOTP", token: await codeOf(TOTP_SECRET) } });
      const bearer = { authorization: `Bearer ${other.json.token}` };
      const listed = (await post(`${svc.url}/api/session.list`, {}, bearer)).json.sessions as Array<{ id: string; kind: string; rememberedDevice: boolean; current: boolean }>;
      const flags = (await post(`${svc.url}/api/session.list`, {}, { cookie: session })).json.sessions.filter((s: { current: boolean }) => s.current);
      expect(flags).toMatchObject([{ kind: "cookie", rememberedDevice: true }]);
      expect(listed.find((s) => s.current)).toMatchObject({ kind: "bearer", rememberedDevice: false });
      expect(listed.filter((s) => s.rememberedDevice).length).toBeGreaterThanOrEqual(2); // both sign-ins of the remembered device
      const mine = (await post(`${svc.url}/api/session.list`, {}, { cookie: cookieOf(again, "session")! })).json.sessions.find((s: { current: boolean }) => s.current);
      expect((await post(`${svc.url}/api/session.revoke`, { id: mine.id }, bearer)).json.ok).toBe(true);
      expect((await setCookie({}, device)).json).toMatchObject({ ok: false, error: { code: 10034 } });
    });

    it("a new password (admin set-password) ends it: the code is asked again", async () => {
      const { device } = await remembered();
      expect((await setCookie({}, device)).json.ok).toBe(true);
      password = "a-new-passw0rd-for-rr";
      await admin().setPassword({ id: ROADRUNNER.id, password });
      expect((await setCookie({}, device)).json).toMatchObject({ ok: false, error: { code: 10034 } });
    });

    it("a factor change (TOTP ejected, a new one activated) ends it: the code is asked again", async () => {
      const { device, session } = await remembered();
      expect((await setCookie({}, device)).json.ok).toBe(true);
      const totp = (method: string, body: object) => post(`${svc.url}/api/totp.${method}`, body, { cookie: session });
      expect((await totp("eject", { secondaryAuthFactor: { type: "PASSWORD", token: password } })).json).toStrictEqual({ ok: true });
      const { secret } = (await totp("enroll", {})).json.totp;
      expect((await totp("activate", { secret, token: await codeOf(secret) })).json).toStrictEqual({ ok: true });
      expect((await setCookie({}, device)).json).toMatchObject({ ok: false, error: { code: 10034 } });
      // Remembered again with a code of the new factor.
      const fresh = await remembered(secret);
      expect((await setCookie({}, fresh.device)).json.ok).toBe(true);
    });

    it("the default app the service made remembers for 30 days, then asks again", async () => {
      expect((await admin().listApps({})).apps.find((a) => a.id === "default")?.rememberDeviceDays).toBe(30);
      const enrolled = await admin().enrollTotp({ id: ROADRUNNER.id }); // a known secret for this test
      const { device } = await remembered(enrolled.secret);
      svc.clock.advance(30 * 24 * 3600 * 1000 - 60_000);
      expect((await setCookie({}, device)).json.ok).toBe(true);
      svc.clock.advance(60_000);
      expect((await setCookie({}, device)).json.error.code).toBe(10034);
    });
  });

  describe("Cosync-style, with deviceToken", () => {
    const login = (app: string, token: string, deviceToken?: string) =>
      cosync(svc.url, "login", { handle: `rr@${app}.io`, password: md5("meep-meep-42"), ...(deviceToken ? { deviceToken } : {}) }, { "app-token": token });
    const complete = (token: string, body: Record<string, unknown>) => cosync(svc.url, "loginComplete", body, { "app-token": token });

    it("loginComplete with rememberDevice: the next login with that device answers the tokens at once, and they are no step-up proof", async () => {
      const first = await login("keeper", KEEPER_TOKEN);
      expect(Object.keys(first.json)).toStrictEqual(["login-token"]);
      const done = await complete(KEEPER_TOKEN, { loginToken: first.json["login-token"], code: await codeOf(TOTP_SECRET), rememberDevice: true });
      expect(done.status).toBe(200);
      const again = await login("keeper", KEEPER_TOKEN, done.json["device-token"]);
      expect(again.status).toBe(200);
      expect(Object.keys(again.json).sort()).toStrictEqual(["access-token", "device-token", "jwt"]);
      // Removing the factor needs a sign-in that passed it: a remembered device's does not (614).
      const off = await cosync(svc.url, "setTwoFactorGoogleVerification", { twoFactor: false }, { "access-token": again.json["access-token"] });
      expect(off.json).toMatchObject({ code: 614 });
    });

    it("the Cosync SDK's flow (no rememberDevice, no deviceToken) is unchanged: every login asks for the code", async () => {
      const first = await login("keeper", KEEPER_TOKEN);
      const done = await complete(KEEPER_TOKEN, { loginToken: first.json["login-token"], code: await codeOf(TOTP_SECRET) });
      expect(done.status).toBe(200);
      expect(Object.keys(done.json).sort()).toStrictEqual(["access-token", "device-token", "jwt"]);
      expect(Object.keys((await login("keeper", KEEPER_TOKEN)).json)).toStrictEqual(["login-token"]);
      // Even with the device token: remembering was not asked.
      const next = await login("keeper", KEEPER_TOKEN, done.json["device-token"]);
      expect(Object.keys(next.json)).toStrictEqual(["login-token"]);
      // Asked at this completion, the device is remembered from now on.
      const asked = await complete(KEEPER_TOKEN, { loginToken: next.json["login-token"], code: await codeOf(TOTP_SECRET), deviceToken: done.json["device-token"], rememberDevice: true });
      expect(Object.keys((await login("keeper", KEEPER_TOKEN, asked.json["device-token"])).json).sort()).toStrictEqual(["access-token", "device-token", "jwt"]);
    });

    it("an app with rememberDeviceDays 0 ignores the flag: the next login asks for the code (the same steps in an app with days do not)", async () => {
      const rememberedIn = async (app: string, token: string) => {
        const first = await login(app, token);
        const done = await complete(token, { loginToken: first.json["login-token"], code: await codeOf(TOTP_SECRET), rememberDevice: true });
        expect(done.status).toBe(200);
        return Object.keys((await login(app, token, done.json["device-token"])).json).sort();
      };
      expect(await rememberedIn("forgetful", FORGETFUL_TOKEN)).toStrictEqual(["login-token"]);
      expect(await rememberedIn("keeper", KEEPER_TOKEN)).toStrictEqual(["access-token", "device-token", "jwt"]);
    });
  });
});
