// A passkey as the second factor, over the Yeep-style REST surface: once registered, WEBAUTHN is in
// applicableAuthFactorTypes (beside TOTP when both are set); the second step carries the assertion
// as `secondaryAuthFactor: {type: "WEBAUTHN", token: <AuthenticationResponseJSON>}` with a challenge
// from passkey.authenticationOptions. A replayed assertion, one for a challenge never issued or
// expired, another account's passkey, another origin, and a counter that does not move forward
// (a cloned authenticator; audited) are refused with 10035. A software authenticator stands in for the browser.
import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SoftAuthenticator } from "./support/passkey-authenticator.js";
import { COYOTE, post, ROADRUNNER, startTestService, TOTP_SECRET, type TestService } from "./support/service.js";

type User = { id: string; email: string; password: string; totpSecret?: string };
const cookieOf = (res: { headers: Headers }) => res.headers.getSetCookie().find((c) => c.startsWith("session="))!.split(";")[0]!;

describe("passkey as a second factor (REST)", () => {
  let svc: TestService;
  let coyote: SoftAuthenticator;
  let roadrunner: SoftAuthenticator;
  beforeAll(async () => {
    svc = await startTestService();
    const origin = `http://localhost:${new URL(svc.url).port}`;
    coyote = new SoftAuthenticator(origin);
    roadrunner = new SoftAuthenticator(origin);
    await register(COYOTE, coyote);
    await register(ROADRUNNER, roadrunner);
  });
  afterAll(() => svc?.close());

  async function register(user: User, device: SoftAuthenticator) {
    const totp = "totpSecret" in user ? { secondaryAuthFactor: { type: "TOTP", token: await generate({ secret: TOTP_SECRET, epoch: Math.floor(svc.clock.now() / 1000) }) } } : {};
    const cookie = cookieOf(await post(`${svc.url}/api/session.setCookie`, { user: user.email, password: user.password, ...totp }));
    svc.clock.advance(30_000); // the next TOTP code is a later step's
    const pwd = { secondaryAuthFactor: { type: "PASSWORD", token: user.password } };
    const options = JSON.parse((await post(`${svc.url}/api/passkey.registrationOptions`, pwd, { cookie })).json.optionsJson);
    expect((await post(`${svc.url}/api/passkey.register`, { responseJson: JSON.stringify(device.create(options)) }, { cookie })).json.ok).toBe(true);
  }
  const options = async () => JSON.parse((await post(`${svc.url}/api/passkey.authenticationOptions`, {})).json.optionsJson);
  const signIn = (user: User, assertion?: unknown) =>
    post(`${svc.url}/api/session.setCookie`, {
      user: user.email,
      password: user.password,
      ...(assertion === undefined ? {} : { secondaryAuthFactor: { type: "WEBAUTHN", token: typeof assertion === "string" ? assertion : JSON.stringify(assertion) } }),
    });

  it("asks for WEBAUTHN once a passkey is registered, beside TOTP when the account has both", async () => {
    expect((await signIn(COYOTE)).json.error).toMatchObject({ code: 10034, applicableAuthFactorTypes: ["WEBAUTHN"] });
    expect((await signIn(ROADRUNNER)).json.error).toMatchObject({ code: 10034, applicableAuthFactorTypes: ["TOTP", "WEBAUTHN"] });
  });

  it("signs in with the password and an assertion, as a second factor (the session is a step-up)", async () => {
    const opts = await options();
    expect(opts).toMatchObject({ rpId: "localhost", userVerification: "preferred" });
    expect(opts.allowCredentials ?? []).toStrictEqual([]); // no list of whose passkeys exist
    const res = await signIn(COYOTE, coyote.get(opts));
    expect(res.json.ok).toBe(true);
    const cookie = cookieOf(res);
    expect((await post(`${svc.url}/api/passkey.registrationOptions`, {}, { cookie })).json.ok).toBe(true); // no password needed: a second factor passed
    expect((await post(`${svc.url}/api/passkey.list`, {}, { cookie })).json.passkeys[0].lastUsedAt).toEqual(expect.any(String));
    expect((await signIn(ROADRUNNER, roadrunner.get(await options()))).json.ok).toBe(true);
  });

  it("refuses a replayed assertion and one for a challenge never issued (10035), audited", async () => {
    const assertion = coyote.get(await options());
    expect((await signIn(COYOTE, assertion)).json.ok).toBe(true);
    expect((await signIn(COYOTE, assertion)).json.error.code).toBe(10035);
    const forged = coyote.get({ challenge: Buffer.from("a challenge the server never gave").toString("base64url") });
    expect((await signIn(COYOTE, forged)).json.error.code).toBe(10035);
    // A challenge issued, then answered after 5 minutes.
    const late = await options();
    svc.clock.advance(5 * 60 * 1000 + 1000);
    expect((await signIn(COYOTE, coyote.get(late))).json.error.code).toBe(10035);
    expect(svc.logs.filter((l) => l.audit && l.event === "second_factor.failure" && l.accountId === COYOTE.id).length).toBeGreaterThanOrEqual(3);
  });

  it("refuses another account's passkey, another origin, a bad signature and garbage", async () => {
    expect((await signIn(COYOTE, roadrunner.get(await options()))).json.error.code).toBe(10035);
    expect((await signIn(COYOTE, coyote.get(await options(), { origin: "http://localhost:1" }))).json.error.code).toBe(10035);
    const tampered = coyote.get(await options());
    tampered.response.signature = Buffer.from("not a signature").toString("base64url");
    expect((await signIn(COYOTE, tampered)).json.error.code).toBe(10035);
    expect((await signIn(COYOTE, "not json")).json.error.code).toBe(10035);
    expect((await signIn(COYOTE, { id: 1 })).json.error.code).toBe(10035);
    expect((await signIn(COYOTE, coyote.get(await options()))).json.ok).toBe(true); // none of these moved its counter
  });

  it("refuses a counter that does not move forward (a cloned authenticator) and audits it", async () => {
    const stored = coyote.credentials[0]!.counter;
    const clone = coyote.get(await options(), { counter: stored - 1 });
    expect((await signIn(COYOTE, clone)).json.error.code).toBe(10035);
    expect(svc.logs.some((l) => l.audit && l.event === "passkey.counter_not_increasing" && l.accountId === COYOTE.id)).toBe(true);
    expect((await signIn(COYOTE, coyote.get(await options(), { counter: stored - 1 }))).json.error.code).toBe(10035); // equal to the saved one
    expect((await signIn(COYOTE, coyote.get(await options(), { counter: stored + 5 }))).json.ok).toBe(true);
  });

  it("checks the password before the assertion", async () => {
    const res = await post(`${svc.url}/api/session.setCookie`, { user: "coyote", password: "wrong-password", secondaryAuthFactor: { type: "WEBAUTHN", token: JSON.stringify(coyote.get(await options())) } });
    expect(res.json.error.code).toBe(10002);
  });
});
