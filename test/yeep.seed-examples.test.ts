// The three examples of the Yeep session.setCookie document, replayed over raw HTTP on the
// legacy path and compared key by key with the documented answers.
import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COYOTE, post, startTestService, TOTP_SECRET, type TestService } from "./support/service.js";

// The document's user, with MFA enabled for the second and third examples.
const MFA_COYOTE = { ...COYOTE, totpSecret: TOTP_SECRET };

describe("session.setCookie: the documented examples", () => {
  let plain: TestService;
  let mfa: TestService;
  beforeAll(async () => {
    [plain, mfa] = await Promise.all([startTestService({}, [COYOTE]), startTestService({}, [MFA_COYOTE])]);
  });
  afterAll(async () => {
    await Promise.all([plain?.close(), mfa?.close()]);
  });

  it("user without MFA: 200 and exactly {ok: true, user: {id}}", async () => {
    const res = await post(`${plain.url}/api/session.setCookie`, { user: "coyote@acme.com", password: "catch-the-b1rd$" });
    expect(res.status).toBe(200);
    expect(res.json).toStrictEqual({ ok: true, user: { id: "507f191e810c19729de860ea" } });
    expect(res.headers.get("set-cookie")).toMatch(/^session=[\w-]+\.[\w-]+\.[\w-]+;/);
  });

  it("user with MFA and no factor: 200 and exactly the documented 10034 error", async () => {
    const res = await post(`${mfa.url}/api/session.setCookie`, { user: "coyote@acme.com", password: "catch-the-b1rd$" });
    expect(res.status).toBe(200);
    expect(res.json).toStrictEqual({
      ok: false,
      error: {
        code: 10034,
        message: 'User "coyote@acme.com" has enabled MFA; please specify secondary authentication factor',
        applicableAuthFactorTypes: ["TOTP"],
      },
    });
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it("the same request repeated with the OTP token: 200 and exactly {ok: true, user: {id}}", async () => {
    const token = await generate({ secret: TOTP_SECRET, epoch: Math.floor(mfa.clock.now() / 1000) });
    const res = await post(`${mfa.url}/api/session.setCookie`, {
      user: "coyote@acme.com",
      password: "catch-the-b1rd$",
      secondaryAuthFactor: { type: "TOTP", token },
    });
    expect(res.status).toBe(200);
    expect(res.json).toStrictEqual({ ok: true, user: { id: "507f191e810c19729de860ea" } });
    expect(res.headers.get("set-cookie")).toMatch(/^session=/);
  });
});
