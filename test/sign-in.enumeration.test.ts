// Sign-in must not tell which accounts exist: unknown user and wrong password get the same
// answer; deactivation is revealed only with the right password.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COYOTE, post, startTestService, type TestService } from "./support/service.js";

const SLEEPY = { id: "aaaaaaaaaaaaaaaaaaaaaaaa", username: "sleepy", email: "sleepy@acme.com", password: "zzz-zzz-zzz", deactivated: true };
const CAFE = { username: "José", email: "Jose.Cafe@Example.com", password: "caf\u00e9-au-lait" };

describe("sign-in answers", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({}, [COYOTE, SLEEPY, CAFE]);
  });
  afterAll(() => svc?.close());

  const signIn = (user: string, password: string) => post(`${svc.url}/api/session.setCookie`, { user, password });

  it("unknown user and wrong password: byte-identical answers (10002)", async () => {
    const unknown = await signIn("nobody@acme.com", "catch-the-b1rd$");
    const wrong = await signIn("coyote@acme.com", "not-the-password");
    expect(unknown.json).toStrictEqual({ ok: false, error: { code: 10002, message: "Invalid username or password" } });
    expect(wrong.text).toBe(unknown.text);
    expect(wrong.headers.get("set-cookie")).toBeNull();
  });

  it("a deactivated account with a wrong password answers like any wrong password", async () => {
    const res = await signIn("sleepy", "wrong");
    expect(res.json.error.code).toBe(10002);
  });

  it("a deactivated account with the right password answers 10022 and gets no session", async () => {
    const res = await signIn("sleepy@acme.com", SLEEPY.password);
    expect(res.json).toMatchObject({ ok: false, error: { code: 10022 } });
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it("finds the user by username or email, case-insensitively and Unicode-normalised", async () => {
    for (const user of ["coyote", "COYOTE", "Coyote@Acme.com", " coyote@acme.com ", "\uff43oyote"]) {
      expect((await signIn(user, COYOTE.password)).json).toStrictEqual({ ok: true, user: { id: COYOTE.id } });
    }
    // "José" typed with a combining accent (NFD) finds the account registered in NFC.
    expect((await signIn("Jose\u0301", CAFE.password)).json.ok).toBe(true);
    // The password is normalised too (NFKC): the same typed password in NFD matches.
    expect((await signIn("jose.cafe@example.com", "cafe\u0301-au-lait")).json.ok).toBe(true);
  });
});
