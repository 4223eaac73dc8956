// TOTP as a second factor: wrong and replayed codes are refused (10035), codes are accepted
// for +-1 step only, and enrollment (enroll, activate, eject) works for a signed-in user.
import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COYOTE, post, ROADRUNNER, startTestService, TOTP_SECRET, type TestService } from "./support/service.js";

const codeAt = (secret: string, ms: number) => generate({ secret, epoch: Math.floor(ms / 1000) });

describe("TOTP at sign-in", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService();
    svc.clock.advance(-(svc.clock.now() % 30_000) + 10_000); // 10 s into a time step
  });
  afterAll(() => svc?.close());

  const signIn = (token?: string) =>
    post(`${svc.url}/api/session.setCookie`, {
      user: ROADRUNNER.email,
      password: ROADRUNNER.password,
      ...(token === undefined ? {} : { secondaryAuthFactor: { type: "TOTP", token } }),
    });

  it("a wrong code answers 10035 and sets no cookie", async () => {
    const right = await codeAt(TOTP_SECRET, svc.clock.now());
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, "0");
    const res = await signIn(wrong);
    expect(res.json).toMatchObject({ ok: false, error: { code: 10035 } });
    expect(res.headers.get("set-cookie")).toBeNull();
    expect((await signIn("12345")).json.error.code).toBe(10035);
    expect((await signIn("abcdef")).json.error.code).toBe(10035);
  });

  it("a code is accepted once: its reuse within the window answers 10035", async () => {
    svc.clock.advance(30_000);
    const code = await codeAt(TOTP_SECRET, svc.clock.now());
    expect((await signIn(code)).json.ok).toBe(true);
    expect((await signIn(code)).json).toMatchObject({ ok: false, error: { code: 10035 } });
    svc.clock.advance(20_000); // still within +-1 step
    expect((await signIn(code)).json.error.code).toBe(10035);
  });

  it("after a code was used, an older step's code is refused too", async () => {
    svc.clock.advance(60_000);
    const previous = await codeAt(TOTP_SECRET, svc.clock.now() - 30_000);
    const current = await codeAt(TOTP_SECRET, svc.clock.now());
    expect((await signIn(current)).json.ok).toBe(true);
    expect((await signIn(previous)).json.error.code).toBe(10035);
  });

  it("accepts the previous and next step's code, not two steps away", async () => {
    svc.clock.advance(120_000);
    expect((await signIn(await codeAt(TOTP_SECRET, svc.clock.now() - 60_000))).json.error.code).toBe(10035);
    expect((await signIn(await codeAt(TOTP_SECRET, svc.clock.now() - 30_000))).json.ok).toBe(true);
    svc.clock.advance(120_000);
    expect((await signIn(await codeAt(TOTP_SECRET, svc.clock.now() + 60_000))).json.error.code).toBe(10035);
    expect((await signIn(await codeAt(TOTP_SECRET, svc.clock.now() + 30_000))).json.ok).toBe(true);
  });

  it("a second factor of another type answers 10035; type PASSWORD is an invalid body", async () => {
    const other = await post(`${svc.url}/api/session.setCookie`, {
      user: ROADRUNNER.email,
      password: ROADRUNNER.password,
      secondaryAuthFactor: { type: "SMS", token: "123456" },
    });
    expect(other.json.error.code).toBe(10035);
    const pwd = await post(`${svc.url}/api/session.setCookie`, {
      user: ROADRUNNER.email,
      password: ROADRUNNER.password,
      secondaryAuthFactor: { type: "PASSWORD", token: ROADRUNNER.password },
    });
    expect(pwd.json.error).toMatchObject({ code: 400, message: "Invalid request body", details: [{ path: ["secondaryAuthFactor", "type"] }] });
  });

  it("the second factor is not asked before the password is right", async () => {
    const res = await post(`${svc.url}/api/session.setCookie`, { user: ROADRUNNER.email, password: "wrong" });
    expect(res.json.error.code).toBe(10002);
  });
});

describe("TOTP enrollment", () => {
  let svc: TestService;
  let cookie: string;
  beforeAll(async () => {
    svc = await startTestService();
    svc.clock.advance(-(svc.clock.now() % 30_000) + 10_000);
    const res = await post(`${svc.url}/api/session.setCookie`, { user: "coyote", password: COYOTE.password });
    cookie = res.headers.get("set-cookie")!.split(";")[0]!;
  });
  afterAll(() => svc?.close());

  const call = (method: string, body: object) => post(`${svc.url}/api/totp.${method}`, body, { cookie });

  it("requires a session", async () => {
    expect((await post(`${svc.url}/api/totp.enroll`, {})).json.error.code).toBe(10000);
  });

  it("refuses to act on another user (10012)", async () => {
    expect((await call("enroll", { userId: ROADRUNNER.id })).json.error.code).toBe(10012);
  });

  it("enroll, activate (the code is then spent), sign in with TOTP, eject with the password", async () => {
    const enrolled = (await call("enroll", { userId: COYOTE.id })).json;
    expect(enrolled.ok).toBe(true);
    const { secret, qrcode, uri, isPendingActivation } = enrolled.totp;
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
    expect(uri).toMatch(new RegExp(`^otpauth://totp/.*secret=${secret}`));
    expect(qrcode).toMatch(/^data:image\/png;base64,/);
    expect(isPendingActivation).toBe(true);

    // Before activation the account has no second factor.
    expect((await post(`${svc.url}/api/user.info`, {}, { cookie })).json.user.mfaEnabled).toBe(false);

    const code = await codeAt(secret, svc.clock.now());
    const bad = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
    expect((await call("activate", { token: bad })).json.error.code).toBe(10031);
    expect((await call("activate", { secret: "AAAAAAAAAAAAAAAA", token: code })).json.error.code).toBe(10031);
    expect((await call("activate", { userId: COYOTE.id, secret, token: code })).json).toStrictEqual({ ok: true });
    expect((await call("enroll", {})).json.error.code).toBe(10032);
    expect((await post(`${svc.url}/api/user.info`, {}, { cookie })).json.user.mfaEnabled).toBe(true);

    const withCode = (token: string) =>
      post(`${svc.url}/api/session.setCookie`, {
        user: "coyote",
        password: COYOTE.password,
        secondaryAuthFactor: { type: "TOTP", token },
      });
    expect((await withCode(code)).json.error.code).toBe(10035); // the enrollment code is spent
    svc.clock.advance(30_000);
    expect((await withCode(await codeAt(secret, svc.clock.now()))).json.ok).toBe(true);

    expect((await call("eject", { secondaryAuthFactor: { type: "PASSWORD", token: "wrong" } })).json.error.code).toBe(10002);
    expect((await call("eject", {})).json.error.code).toBe(400);
    expect((await call("eject", { secondaryAuthFactor: { type: "PASSWORD", token: COYOTE.password } })).json).toStrictEqual({ ok: true });
    expect((await call("eject", { secondaryAuthFactor: { type: "PASSWORD", token: COYOTE.password } })).json.error.code).toBe(10033);
    expect((await post(`${svc.url}/api/session.setCookie`, { user: "coyote", password: COYOTE.password })).json.ok).toBe(true);
  });

  it("activate without a pending enrollment answers 10033", async () => {
    const other = await startTestService({}, [{ ...COYOTE }]);
    try {
      const res = await post(`${other.url}/api/session.setCookie`, { user: "coyote", password: COYOTE.password });
      const c = res.headers.get("set-cookie")!.split(";")[0]!;
      expect((await post(`${other.url}/api/totp.activate`, { token: "123456" }, { cookie: c })).json.error.code).toBe(10033);
    } finally {
      await other.close();
    }
  });
});
