// Passkey registration and management over the Yeep-style REST surface (/api/passkey.*): options
// need a step-up (the password, or a sign-in with a second factor minutes ago); the response must
// answer the last options' challenge, once, from an allowed origin; list, rename, delete (step-up
// again; the other sessions end). A software authenticator stands in for the browser.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SoftAuthenticator } from "./support/passkey-authenticator.js";
import { COYOTE, post, ROADRUNNER, startTestService, TOTP_SECRET, type TestService } from "./support/service.js";
import { generate } from "otplib";

const cookieOf = (res: { headers: Headers }) => res.headers.getSetCookie().find((c) => c.startsWith("session="))!.split(";")[0]!;
const password = (token: string) => ({ secondaryAuthFactor: { type: "PASSWORD", token } });

describe("passkey registration and management (REST)", () => {
  let svc: TestService;
  let origin: string;
  let cookie: string;
  beforeAll(async () => {
    svc = await startTestService();
    origin = `http://localhost:${new URL(svc.url).port}`; // the default origin: the service's own, on the RP id
    cookie = cookieOf(await post(`${svc.url}/api/session.setCookie`, { user: COYOTE.email, password: COYOTE.password }));
  });
  afterAll(() => svc?.close());

  const call = (method: string, body: unknown, as = cookie) => post(`${svc.url}/api/passkey.${method}`, body, { cookie: as });
  const options = async (as = cookie) => JSON.parse((await call("registrationOptions", password(COYOTE.password), as)).json.optionsJson);

  it("options need a session and a step-up: without the password, a sign-in without a second factor answers 10036", async () => {
    expect((await post(`${svc.url}/api/passkey.registrationOptions`, password(COYOTE.password))).json.error.code).toBe(10000);
    expect((await call("registrationOptions", {})).json.error.code).toBe(10036);
    expect((await call("registrationOptions", password("wrong-password"))).json.error.code).toBe(10002);
    expect((await call("registrationOptions", { secondaryAuthFactor: { type: "TOTP", token: "123456" } })).json.error.code).toBe(400);
    const opts = await options();
    expect(opts).toMatchObject({ rp: { id: "localhost", name: "Sign-in" }, user: { name: COYOTE.email }, authenticatorSelection: { residentKey: "required" } });
    expect(Buffer.from(opts.user.id, "base64url").toString()).toBe(COYOTE.id);
  });

  it("a sign-in that passed a second factor minutes ago is the step-up itself", async () => {
    const code = await generate({ secret: TOTP_SECRET, epoch: Math.floor(svc.clock.now() / 1000) });
    const rr = cookieOf(await post(`${svc.url}/api/session.setCookie`, { user: ROADRUNNER.email, password: ROADRUNNER.password, secondaryAuthFactor: { type: "TOTP", token: code } }));
    expect((await call("registrationOptions", {}, rr)).json.ok).toBe(true);
    svc.clock.advance(6 * 60 * 1000);
    expect((await call("registrationOptions", {}, rr)).json.error.code).toBe(10036);
  });

  it("registers the authenticator's answer once; lists, renames and deletes it", async () => {
    const other = cookieOf(await post(`${svc.url}/api/session.setCookie`, { user: COYOTE.email, password: COYOTE.password })); // before: then the passkey is asked for
    const device = new SoftAuthenticator(origin);
    const response = device.create(await options());
    const registered = await call("register", { responseJson: JSON.stringify(response), name: "  My   laptop " });
    expect(registered.json).toMatchObject({ ok: true, passkey: { name: "My laptop", aaguid: "00000000-0000-0000-0000-000000000000", transports: ["internal"] } });
    const { id } = registered.json.passkey;
    expect(new Date(registered.json.passkey.createdAt).getTime()).toBe(svc.clock.now()); // the service's clock, as last use is
    // The challenge served once: the same answer again has nothing pending.
    expect((await call("register", { responseJson: JSON.stringify(response) })).json.error.code).toBe(10033);
    expect((await call("list", {})).json.passkeys).toStrictEqual([expect.objectContaining({ id, name: "My laptop", createdAt: registered.json.passkey.createdAt })]);
    expect((await call("rename", { id, name: "Work laptop" })).json.ok).toBe(true);
    expect((await call("rename", { id: "0".repeat(24), name: "x" })).json.error.code).toBe(10033);
    expect((await call("rename", { id, name: "" })).json.error.code).toBe(400);
    expect((await call("list", {})).json.passkeys[0].name).toBe("Work laptop");
    // The same authenticator cannot register twice (excluded, and refused if it tries).
    const again = await options();
    expect(again.excludeCredentials).toStrictEqual([expect.objectContaining({ id: response.id })]);
    expect((await call("register", { responseJson: JSON.stringify(device.create(again, device.credentials[0])) })).json.error.code).toBe(10032);

    expect((await call("delete", { id })).json.error.code).toBe(10036);
    expect((await call("delete", { id, ...password("nope-nope") })).json.error.code).toBe(10002);
    expect((await call("delete", { id, ...password(COYOTE.password) })).json.ok).toBe(true);
    expect((await call("list", {})).json.passkeys).toStrictEqual([]);
    expect((await post(`${svc.url}/api/user.info`, {}, { cookie: other })).json.error.code).toBe(10000); // other sessions ended
    expect((await call("delete", { id, ...password(COYOTE.password) })).json.error.code).toBe(10033);
  });

  it("refuses an answer to another challenge, from another origin, or that is not JSON, and spends the challenge", async () => {
    const device = new SoftAuthenticator(origin);
    const first = await options();
    await options(); // newer options replace the first challenge
    expect((await call("register", { responseJson: JSON.stringify(device.create(first)) })).json.error).toMatchObject({ code: 10031 });
    const evil = new SoftAuthenticator("http://localhost:1");
    expect((await call("register", { responseJson: JSON.stringify(evil.create(await options())) })).json.error.code).toBe(10031);
    const opts = await options();
    expect((await call("register", { responseJson: "not json" })).json.error.code).toBe(10031);
    expect((await call("register", { responseJson: JSON.stringify(device.create(opts)) })).json.error.code).toBe(10033); // spent by the bad one
    expect((await call("register", { responseJson: "" })).json.error.code).toBe(400);
  });

  it("the recovery codes go with the last passkey when no other factor is left", async () => {
    const device = new SoftAuthenticator(origin);
    const registered = await call("register", { responseJson: JSON.stringify(device.create(await options())) });
    const { id } = registered.json.passkey;
    const generated = await post(`${svc.url}/api/recoveryCodes.generate`, password(COYOTE.password), { cookie });
    expect(generated.json.codes).toHaveLength(10);
    const left = async () => (await post(`${svc.url}/api/user.info`, {}, { cookie })).json.user.recoveryCodesLeft;
    expect(await left()).toBe(10);
    expect((await call("delete", { id, ...password(COYOTE.password) })).json.ok).toBe(true);
    expect(await left()).toBe(0);
  });

  it("options expire after 5 minutes", async () => {
    const device = new SoftAuthenticator(origin);
    const opts = await options();
    svc.clock.advance(5 * 60 * 1000 + 1000);
    expect((await call("register", { responseJson: JSON.stringify(device.create(opts)) })).json.error.code).toBe(10033);
  });
});
