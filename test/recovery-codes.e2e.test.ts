// Recovery codes on the wire (issue 17), on real Redis: recoveryCodes.generate (REST and RPC)
// behind a session and a step-up, the codes as a Yeep-style second factor and in place of the
// code at Cosync loginComplete (the SDK's path), single use across two instances under 50
// concurrent sign-ins, user.info's count, the audit, and the codes dropped with the last factor.
import { decodeJwt } from "jose";
import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP_TOKENS, COSYNC_APPS, COSYNC_USERS, cosync, md5, RR } from "./support/cosync.js";
import { COYOTE, post, ROADRUNNER, startTestInstances, startTestService, TOTP_SECRET, type TestService } from "./support/service.js";

const CODE = /^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/;
const totpAt = (ms: number) => generate({ secret: TOTP_SECRET, epoch: Math.floor(ms / 1000) });

describe("recovery codes, Yeep-style", () => {
  let svc: TestService;
  let token: string;
  beforeAll(async () => {
    svc = await startTestService();
    svc.clock.advance(-(svc.clock.now() % 30_000) + 5_000);
    const issued = await post(`${svc.url}/api/session.issueToken`, {
      user: ROADRUNNER.username,
      password: ROADRUNNER.password,
      secondaryAuthFactor: { type: "TOTP", token: await totpAt(svc.clock.now()) },
    });
    token = issued.json.token;
  });
  afterAll(() => svc?.close());

  const bearer = (t = token) => ({ authorization: `Bearer ${t}` });
  const generateCodes = (body: object, headers: Record<string, string> = bearer()) => post(`${svc.url}/api/recoveryCodes.generate`, body, headers);
  const password = { secondaryAuthFactor: { type: "PASSWORD", token: ROADRUNNER.password } };
  const left = async () => (await post(`${svc.url}/api/user.info`, {}, bearer())).json.user.recoveryCodesLeft;
  const signIn = (factor?: object) => post(`${svc.url}/api/session.setCookie`, { user: ROADRUNNER.username, password: ROADRUNNER.password, ...(factor ? { secondaryAuthFactor: factor } : {}) });

  it("needs a session and a step-up (the password or a current code); the account needs a factor", async () => {
    expect((await generateCodes(password, {})).json).toMatchObject({ ok: false, error: { code: 10000 } });
    expect((await generateCodes({})).json).toMatchObject({ ok: false, error: { code: 400, details: [{ path: ["secondaryAuthFactor"] }] } });
    expect((await generateCodes({ secondaryAuthFactor: { type: "SMS", token: "123456" } })).json.error.code).toBe(400);
    expect((await generateCodes({ secondaryAuthFactor: { type: "PASSWORD", token: "wrong" } })).json).toMatchObject({ ok: false, error: { code: 10002 } });
    expect((await generateCodes({ secondaryAuthFactor: { type: "TOTP", token: "000000" } })).json).toMatchObject({ ok: false, error: { code: 10035 } });
    const coyote = (await post(`${svc.url}/api/session.issueToken`, { user: COYOTE.username, password: COYOTE.password })).json.token;
    const none = await generateCodes({ secondaryAuthFactor: { type: "PASSWORD", token: COYOTE.password } }, bearer(coyote));
    expect(none.json).toMatchObject({ ok: false, error: { code: 10033 } });
    expect(await left()).toBe(0);
  });

  it("answers 10 codes once; they are offered and work once each as a second factor; use is audited and counted", async () => {
    const res = await generateCodes(password);
    expect(res.json.ok).toBe(true);
    const codes: string[] = res.json.codes;
    expect(codes).toHaveLength(10);
    for (const c of codes) expect(c).toMatch(CODE);
    expect(await left()).toBe(10);

    const asked = await signIn();
    expect(asked.json.error).toMatchObject({ code: 10034, applicableAuthFactorTypes: ["TOTP", "RECOVERY_CODE"] });
    const typed = ` ${codes[0]!.toLowerCase().replace("-", " ")} `;
    const used = await signIn({ type: "RECOVERY_CODE", token: typed });
    expect(used.json.ok).toBe(true);
    expect(used.headers.get("set-cookie")).toContain("session=");
    expect((await signIn({ type: "RECOVERY_CODE", token: codes[0] })).json).toMatchObject({ ok: false, error: { code: 10035 } });
    expect((await signIn({ type: "RECOVERY_CODE", token: "AAAAA-AAAAA" })).json).toMatchObject({ ok: false, error: { code: 10035 } });
    expect(await left()).toBe(9);
    const audit = svc.logs.filter((l) => l.audit && l.event === "recovery_code.used");
    expect(audit).toMatchObject([{ accountId: ROADRUNNER.id, left: 9 }]);
    expect(JSON.stringify(svc.logs)).not.toContain(codes[0]!.replace("-", ""));
  });

  it("generating again (here with a TOTP code, over the RPC) replaces the old set", async () => {
    const old = (await generateCodes(password)).json.codes as string[];
    svc.clock.advance(30_000);
    const res = await fetch(`${svc.url}/signin.session.v1.TotpService/GenerateRecoveryCodes`, {
      method: "POST",
      headers: { "content-type": "application/json", ...bearer() },
      body: JSON.stringify({ secondaryAuthFactor: { type: "TOTP", token: await totpAt(svc.clock.now()) } }),
    });
    expect(res.status).toBe(200);
    const renewed = ((await res.json()) as { codes: string[] }).codes;
    expect(renewed).toHaveLength(10);
    expect(renewed.filter((c) => old.includes(c))).toStrictEqual([]);
    expect((await signIn({ type: "RECOVERY_CODE", token: old[1] })).json.error.code).toBe(10035);
    expect((await signIn({ type: "RECOVERY_CODE", token: renewed[1] })).json.ok).toBe(true);
    expect(await left()).toBe(9);
  });

  it("removing the last factor (totp.eject) drops the codes", async () => {
    expect((await post(`${svc.url}/api/totp.eject`, password, bearer())).json.ok).toBe(true);
    expect(await left()).toBe(0);
    expect((await signIn()).json.ok).toBe(true); // no factor left to ask for
  });
});

describe("recovery codes, admin ResetSecondFactors", () => {
  const ADMIN_TOKEN = "admin-token-for-the-recovery-code-tests-0123456789";
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ ADMIN_TOKEN });
    svc.clock.advance(-(svc.clock.now() % 30_000) + 5_000);
  });
  afterAll(() => svc?.close());

  it("drops the codes with the factors", async () => {
    const token = (
      await post(`${svc.url}/api/session.issueToken`, { user: ROADRUNNER.username, password: ROADRUNNER.password, secondaryAuthFactor: { type: "TOTP", token: await totpAt(svc.clock.now()) } })
    ).json.token;
    const codes = (await post(`${svc.url}/api/recoveryCodes.generate`, { secondaryAuthFactor: { type: "PASSWORD", token: ROADRUNNER.password } }, { authorization: `Bearer ${token}` })).json.codes;
    expect(codes).toHaveLength(10);
    const reset = await post(`${svc.url}/signin.admin.v1.AdminService/ResetSecondFactors`, { id: ROADRUNNER.id }, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(reset.status).toBe(200);
    // Signed in again (the reset ended the sessions issued until now): no factor, no codes.
    svc.clock.advance(1_000);
    const again = (await post(`${svc.url}/api/session.issueToken`, { user: ROADRUNNER.username, password: ROADRUNNER.password })).json.token;
    expect((await post(`${svc.url}/api/user.info`, {}, { authorization: `Bearer ${again}` })).json.user).toMatchObject({ mfaEnabled: false, recoveryCodesLeft: 0 });
  });
});

describe("recovery codes, one code used 50 times at once on two instances", () => {
  let cluster: Awaited<ReturnType<typeof startTestInstances>>;
  beforeAll(async () => {
    // Limits high enough that every attempt reaches the code: the database alone decides.
    cluster = await startTestInstances(2, { LIMIT_IP_REQUESTS: "1000/60", LIMIT_SECOND_FACTOR_FAILURES: "1000/900" }, COSYNC_USERS, COSYNC_APPS);
  });
  afterAll(() => cluster?.close());

  it("exactly one sign-in succeeds (50 login tokens completed at once with the same code)", async () => {
    const [a, b] = cluster.instances as [TestService, TestService];
    const acme = { "app-token": APP_TOKENS.acme };
    const loginToken = async (svc: TestService) => {
      const res = await cosync(svc.url, "login", { handle: RR.handle, password: md5(RR.password) }, acme);
      expect(res.json["login-token"], JSON.stringify(res.json)).toBeTypeOf("string");
      return res.json["login-token"] as string;
    };
    const first = await cosync(a.url, "loginComplete", { loginToken: await loginToken(a), code: await totpAt(a.clock.now()) }, acme);
    const generated = await post(`${b.url}/api/recoveryCodes.generate`, { secondaryAuthFactor: { type: "PASSWORD", token: RR.password } }, { "access-token": first.json["access-token"] });
    const [code] = generated.json.codes as string[];
    // The password steps first (argon2 would spread the attempts out), then every code at once.
    const tokens: string[] = [];
    for (let i = 0; i < 50; i++) tokens.push(await loginToken(i % 2 ? a : b)); // at once, the account's in-flight limit would refuse some
    const answers = await Promise.all(tokens.map((t, i) => cosync((i % 2 ? a : b).url, "loginComplete", { loginToken: t, code }, acme)));
    expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
    expect(answers.filter((r) => r.status !== 200).map((r) => r.json.code)).toStrictEqual(Array(49).fill(600));
  });
});

describe("recovery codes, Cosync-style (the SDK's loginComplete)", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({}, COSYNC_USERS, COSYNC_APPS);
    svc.clock.advance(-(svc.clock.now() % 30_000) + 5_000);
  });
  afterAll(() => svc?.close());

  const acme = { "app-token": APP_TOKENS.acme };
  const loginToken = async () => (await cosync(svc.url, "login", { handle: RR.handle, password: md5(RR.password) }, acme)).json["login-token"] as string;
  const complete = async (code: string) => cosync(svc.url, "loginComplete", { loginToken: await loginToken(), code }, acme);

  it("loginComplete takes a recovery code in place of the 6-digit code, once; the codes go with the factor", async () => {
    const first = await complete(await totpAt(svc.clock.now()));
    const access = first.json["access-token"] as string;
    const res = await post(`${svc.url}/api/recoveryCodes.generate`, { secondaryAuthFactor: { type: "PASSWORD", token: RR.password } }, { "access-token": access });
    expect(res.json.ok).toBe(true);
    const codes: string[] = res.json.codes;

    expect((await complete("AAAAA-AAAAA")).json.code).toBe(600);
    const signedIn = await complete(codes[0]!.toLowerCase());
    expect(Object.keys(signedIn.json).sort()).toStrictEqual(["access-token", "device-token", "jwt"]);
    expect(decodeJwt(signedIn.json["access-token"]).amr).toContain("mfa");
    expect((await complete(codes[0]!)).json.code).toBe(600);

    // The recovery sign-in is a fresh second factor: it may turn Google two-factor off, which drops the codes.
    const off = await cosync(svc.url, "setTwoFactorGoogleVerification", { twoFactor: false }, { "access-token": signedIn.json["access-token"] });
    expect(off.status).toBe(200);
    const on = await cosync(svc.url, "setTwoFactorGoogleVerification", { twoFactor: true }, { "access-token": signedIn.json["access-token"] });
    expect(on.status).toBe(200);
    expect((await complete(codes[1]!)).json.code).toBe(600);
  });
});
