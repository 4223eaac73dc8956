// user.info: the caller's own account, another account only with `user.read`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COYOTE, post, ROADRUNNER, startTestService, type TestService } from "./support/service.js";

describe("user.info", () => {
  let svc: TestService;
  let coyote: string;
  let roadrunner: string;
  beforeAll(async () => {
    svc = await startTestService();
    const issue = async (user: string, password: string, secondaryAuthFactor?: object) =>
      (await post(`${svc.url}/api/session.issueToken`, { user, password, secondaryAuthFactor })).json.token as string;
    coyote = await issue("coyote", COYOTE.password);
    const { generate } = await import("otplib");
    roadrunner = await issue("roadrunner", ROADRUNNER.password, {
      type: "TOTP",
      token: await generate({ secret: ROADRUNNER.totpSecret, epoch: Math.floor(svc.clock.now() / 1000) }),
    });
  });
  afterAll(() => svc?.close());

  const info = (token: string, body: object = {}) => post(`${svc.url}/api/user.info`, body, { authorization: `Bearer ${token}` });

  it("returns the caller's account", async () => {
    const res = await info(coyote);
    expect(res.json.ok).toBe(true);
    const { createdAt, ...user } = res.json.user;
    expect(user).toStrictEqual({
      id: COYOTE.id,
      username: "coyote",
      fullName: "Wile E. Coyote",
      emails: [{ address: "coyote@acme.com", isVerified: false, isPrimary: true }],
      permissions: ["user.read"],
      mfaEnabled: false,
      // Issue 17: unused recovery codes (test/recovery-codes.e2e.test.ts).
      recoveryCodesLeft: 0,
    });
    expect(Math.abs(Date.parse(createdAt) - Date.now())).toBeLessThan(10 * 60 * 1000);
    expect((await info(roadrunner)).json.user).toMatchObject({ id: ROADRUNNER.id, mfaEnabled: true, permissions: [] });
  });

  it("reads another account with the user.read permission", async () => {
    expect((await info(coyote, { id: ROADRUNNER.id })).json.user).toMatchObject({ id: ROADRUNNER.id, username: "roadrunner" });
    expect((await info(coyote, { id: "ffffffffffffffffffffffff" })).json.error.code).toBe(10001);
  });

  it("without user.read, another account is an authorization error (10012)", async () => {
    const res = await info(roadrunner, { id: COYOTE.id });
    expect(res.json).toMatchObject({ ok: false, error: { code: 10012 } });
    expect((await info(roadrunner, { id: ROADRUNNER.id })).json.ok).toBe(true);
  });
});
