// Issue 16's attack, end to end on real Redis and PGlite: an attacker floods wrong passwords for
// `coyote` from 20 IPs (behind a trusted proxy) until every attempt without a device cookie is
// refused (10429); `coyote`'s browser, holding the device cookie of an earlier sign-in, gets in at
// once with the right password; 5 wrong passwords with that cookie lock only that cookie. The same
// on the bearer flavour, the Cosync surface and Connect, where the credential travels in the body.
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterEach, describe, expect, it } from "vitest";
import { SessionService } from "../gen/signin/session/v1/session_pb.js";
import { APP_TOKENS, COSYNC_APPS, cosync, md5, WILE } from "./support/cosync.js";
import { COYOTE, post, startTestService, type TestService } from "./support/service.js";

const running: TestService[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});
async function start(env: Record<string, string>, users?: unknown[], apps?: unknown[]) {
  const svc = await startTestService({ TRUSTED_PROXIES: "loopback", ...env }, users, apps);
  running.push(svc);
  return svc;
}

/** The device cookie (name=value) a Set-Cookie header list carries, if any. */
const deviceCookie = (headers: Headers) => headers.getSetCookie().find((c) => c.startsWith("device="))?.split(";")[0];
const sessionCookie = (headers: Headers) => headers.getSetCookie().find((c) => c.startsWith("session="))?.split(";")[0];
/** The device id inside a credential (its payload is signed, not secret). */
const deviceId = (token: string) => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()).deviceId as string;
const codeOf = (r: { json: any }) => r.json.error?.code ?? "ok";

describe("known devices during an attack on the account", () => {
  it("the flood refuses everyone without a device cookie; the owner's device gets in at once; 5 wrong passwords lock only that cookie", async () => {
    // The account's hard limit lowered from 100 to 40 failures per hour (20 IPs x 2), without the
    // delay before it, so the flood is short and its refusals do not depend on timing.
    const svc = await start({ LIMIT_ACCOUNT_FAILURES: "40/3600", LIMIT_ACCOUNT_DELAY_AFTER: "40" });
    const signIn = (password: string, ip: string, cookie?: string) =>
      post(`${svc.url}/api/session.setCookie`, { user: "coyote", password }, { "x-forwarded-for": ip, ...(cookie ? { cookie } : {}) });

    // Earlier sign-ins of the owner: the laptop's browser and the phone's each keep a device cookie.
    const first = await signIn(COYOTE.password, "203.0.113.10");
    expect(first.json.ok).toBe(true);
    const laptop = deviceCookie(first.headers)!;
    expect(first.headers.getSetCookie().find((c) => c.startsWith("device="))).toMatch(/^device=dv1\.[\w-]+\.[\w-]+; Path=\/; Max-Age=31536000; HttpOnly; SameSite=Lax$/);
    const phone = deviceCookie((await signIn(COYOTE.password, "203.0.113.11")).headers)!;

    // The flood: 20 IPs at once, each sending wrong passwords until it is refused.
    const answers = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const codes: number[] = [];
        for (let n = 0; n < 10 && codes.at(-1) !== 10429; n++) codes.push(codeOf(await signIn("wrong", `198.51.100.${i + 1}`)));
        return codes;
      }),
    );
    expect(answers.every((codes) => codes.at(-1) === 10429)).toBe(true);
    expect(answers.flat().filter((c) => c === 10002)).toHaveLength(40);
    // Without a device cookie, the owner's right password is refused too, from any IP.
    for (const ip of ["203.0.113.10", "192.0.2.1"]) expect((await signIn(COYOTE.password, ip)).json.error).toMatchObject({ code: 10429 });

    // With the laptop's cookie: in at once, a working session, the cookie renewed for the same device.
    const owner = await signIn(COYOTE.password, "203.0.113.10", laptop);
    expect(owner.json).toStrictEqual({ ok: true, user: { id: COYOTE.id } });
    expect((await post(`${svc.url}/api/user.info`, {}, { cookie: sessionCookie(owner.headers)! })).json.ok).toBe(true);
    const renewed = deviceCookie(owner.headers)!;
    expect(deviceId(renewed.slice("device=".length))).toBe(deviceId(laptop.slice("device=".length)));

    // Someone with the laptop's cookie but not the password: 5 wrong, then that cookie is limited like anyone.
    for (let i = 0; i < 5; i++) expect(codeOf(await signIn("wrong", "203.0.113.10", renewed))).toBe(10002);
    expect(codeOf(await signIn(COYOTE.password, "203.0.113.10", renewed))).toBe(10429);
    // Only that cookie: the phone's still gets in.
    expect(codeOf(await signIn(COYOTE.password, "203.0.113.11", phone))).toBe("ok");
  });

  it("API callers send the credential in the body: bearer flavour, Connect and Cosync", async () => {
    const svc = await start({ LIMIT_ACCOUNT_FAILURES: "3/3600", LIMIT_ACCOUNT_DELAY_AFTER: "3" }, [COYOTE, WILE], COSYNC_APPS.slice(0, 1));
    const from = (ip: string) => ({ "x-forwarded-for": ip });
    const issueToken = (body: object, ip = "203.0.113.10") => post(`${svc.url}/api/session.issueToken`, { user: "coyote", ...body }, from(ip));
    const login = (body: object, ip = "203.0.113.10") => cosync(svc.url, "login", { handle: WILE.handle, ...body }, { "app-token": APP_TOKENS.acme, ...from(ip) });

    const bearer = (await issueToken({ password: COYOTE.password })).json.deviceToken as string;
    const app = (await login({ password: md5(WILE.password) })).json["device-token"] as string;
    expect([bearer, app]).toStrictEqual([expect.stringMatching(/^dv1\./), expect.stringMatching(/^dv1\./)]);
    for (let i = 1; i <= 3; i++) {
      await issueToken({ password: "wrong" }, `198.51.100.${i}`);
      await login({ password: md5("wrong") }, `198.51.100.${i}`);
    }
    expect(codeOf(await issueToken({ password: COYOTE.password }))).toBe(10429);
    expect((await login({ password: md5(WILE.password) })).status).toBe(429);

    const byToken = await issueToken({ password: COYOTE.password, device_token: bearer });
    expect(byToken.json).toMatchObject({ ok: true, token: expect.any(String), deviceToken: expect.stringMatching(/^dv1\./) });
    expect(deviceId(byToken.json.deviceToken)).toBe(deviceId(bearer));
    const byApp = await login({ password: md5(WILE.password), deviceToken: app });
    expect(Object.keys(byApp.json).sort()).toStrictEqual(["access-token", "device-token", "jwt"]);
    const rpc = createClient(SessionService, createConnectTransport({ baseUrl: svc.url, httpVersion: "1.1" }));
    const res = await rpc.issueToken({ user: "coyote", password: COYOTE.password, deviceToken: byToken.json.deviceToken }, { headers: from("203.0.113.10") });
    expect(deviceId(res.deviceToken!)).toBe(deviceId(bearer));

    // A credential longer than any we issue is bad input, in each envelope.
    expect((await issueToken({ password: COYOTE.password, deviceToken: "x".repeat(1025) })).json.error).toMatchObject({ code: 400 });
    expect((await login({ password: md5(WILE.password), deviceToken: "x".repeat(1025) })).json).toMatchObject({ code: 602 });
  });
});
