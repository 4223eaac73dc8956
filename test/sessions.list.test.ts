// The session list and per-device sign-out (issue 16), end to end on two instances sharing one Redis
// and one database: session.list (REST and RPC) shows every live session of the caller, Yeep-style
// cookies and bearer tokens and Cosync access-tokens, newest first, with browser/OS parsed from the
// user agent, IP, kind and which one asks; session.revoke ends one on every instance at once,
// session.revokeOthers all but the caller's; the admin API lists and ends them too.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../gen/signin/admin/v1/admin_pb.js";
import { APP_TOKENS, COSYNC_APPS, cosync, md5, WILE } from "./support/cosync.js";
import { COYOTE, post, startTestInstances, type TestService } from "./support/service.js";

const ADMIN_TOKEN = "admin-token-for-tests-0123456789abcdef";
const MAC_CHROME = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const IPHONE_SAFARI = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const WINDOWS_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
const credentials = { user: "coyote", password: COYOTE.password };
const cookieOf = (res: { headers: Headers }) => res.headers.getSetCookie().find((c) => c.startsWith("session="))!.split(";")[0]!;
const from = (ip: string, ua: string) => ({ "x-forwarded-for": ip, "user-agent": ua });

describe("session list and per-device sign-out (two instances)", () => {
  let a: TestService;
  let b: TestService;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const started = await startTestInstances(2, { TRUSTED_PROXIES: "127.0.0.1/32", ADMIN_TOKEN }, [COYOTE, WILE], COSYNC_APPS);
    [a, b] = started.instances as [TestService, TestService];
    close = started.close;
    b.clock.advance(a.clock.now() - b.clock.now()); // one time on both, as real instances share it
  });
  afterAll(() => close?.());

  const signInCookie = async (svc: TestService, headers: Record<string, string>) => cookieOf(await post(`${svc.url}/api/session.setCookie`, credentials, headers));
  const issueToken = async (svc: TestService, headers: Record<string, string>) => (await post(`${svc.url}/api/session.issueToken`, credentials, headers)).json.token as string;
  const list = async (svc: TestService, headers: Record<string, string>) => (await post(`${svc.url}/api/session.list`, {}, headers)).json;
  const info = async (svc: TestService, headers: Record<string, string>) => (await post(`${svc.url}/api/user.info`, {}, headers)).json;
  const wileLogin = async (svc: TestService, headers: Record<string, string>) =>
    (await cosync(svc.url, "login", { handle: WILE.handle, password: md5(WILE.password) }, { "app-token": APP_TOKENS.acme, ...headers })).json["access-token"] as string;
  const admin = (svc: TestService) =>
    createClient(
      AdminService,
      createConnectTransport({ baseUrl: svc.url, httpVersion: "1.1", interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${ADMIN_TOKEN}`), next(req))] }),
    );

  it("lists the caller's sessions newest first: browser and OS, IP, kind, times, its own marked; a refresh updates last use and IP", async () => {
    const laptop = await signInCookie(a, from("203.0.113.5", MAC_CHROME));
    const signedInAt = a.clock.now();
    a.clock.advance(1000);
    const phone = await issueToken(a, from("198.51.100.7", IPHONE_SAFARI));

    const listed = await list(b, { cookie: laptop });
    expect(listed.ok).toBe(true);
    const [first, second] = listed.sessions;
    expect(first).toMatchObject({ kind: "bearer", browser: "Safari 17", os: "iOS", ip: "198.51.100.7", userAgent: IPHONE_SAFARI, current: false, rememberedDevice: false });
    expect(second).toMatchObject({ kind: "cookie", browser: "Chrome 131", os: "macOS", ip: "203.0.113.5", userAgent: MAC_CHROME, current: true });
    expect(new Date(second.createdAt).getTime()).toBe(signedInAt);
    expect(new Date(first.createdAt).getTime()).toBe(signedInAt + 1000);
    expect(listed.sessions.filter((s: any) => s.current)).toHaveLength(1);

    // The bearer asks from its own side: the same list, its own session marked.
    const fromPhone = await list(a, { authorization: `Bearer ${phone}` });
    expect(fromPhone.sessions.find((s: any) => s.current).id).toBe(first.id);

    a.clock.advance(60_000);
    const refreshed = await post(`${a.url}/api/session.refreshToken`, { token: phone }, from("192.0.2.44", IPHONE_SAFARI));
    expect(refreshed.json.ok).toBe(true);
    const after = (await list(b, { cookie: laptop })).sessions.find((s: any) => s.id === first.id);
    expect(after).toMatchObject({ ip: "192.0.2.44", createdAt: first.createdAt });
    expect(new Date(after.lastUsedAt).getTime()).toBe(a.clock.now());
  });

  it("revoking a session ends it on every instance at once; an ended id, another account's or garbage is refused", async () => {
    const laptop = await signInCookie(a, from("203.0.113.5", MAC_CHROME));
    const phone = await issueToken(a, from("198.51.100.7", IPHONE_SAFARI));
    expect((await info(a, { authorization: `Bearer ${phone}` })).ok).toBe(true); // in the other instance's caches too
    const phoneId = (await list(b, { authorization: `Bearer ${phone}` })).sessions.find((s: any) => s.current).id;

    expect((await post(`${b.url}/api/session.revoke`, { id: phoneId }, { cookie: laptop })).json).toStrictEqual({ ok: true });
    expect((await info(a, { authorization: `Bearer ${phone}` })).error.code).toBe(10000);
    expect((await post(`${a.url}/api/session.refreshToken`, { token: phone })).json.error.code).toBe(10029);
    expect((await list(a, { cookie: laptop })).sessions.map((s: any) => s.id)).not.toContain(phoneId);
    expect((await info(a, { cookie: laptop })).ok).toBe(true);

    // Revoked already, another account's (a Cosync access-token of Wile), missing: refused, nothing ended.
    const wile = await wileLogin(a, {});
    const wileId = (await list(a, { "access-token": wile })).sessions[0].id;
    expect((await post(`${b.url}/api/session.revoke`, { id: phoneId }, { cookie: laptop })).json.error).toMatchObject({ code: 10037 });
    expect((await post(`${b.url}/api/session.revoke`, { id: wileId }, { cookie: laptop })).json.error).toMatchObject({ code: 10037 });
    expect((await cosync(a.url, "getUser", null, { "access-token": wile })).status).toBe(200);
    expect((await post(`${b.url}/api/session.revoke`, {}, { cookie: laptop })).json.error.code).toBe(400);
    expect((await post(`${b.url}/api/session.revoke`, { id: phoneId })).json.error.code).toBe(10000);
  });

  it("revokeOthers ends every other session of the account (every kind), and keeps the caller's", async () => {
    const laptop = await signInCookie(a, from("203.0.113.5", MAC_CHROME));
    const others = [await issueToken(a, from("198.51.100.7", IPHONE_SAFARI)), await issueToken(b, from("192.0.2.9", WINDOWS_FIREFOX))];
    const before = (await list(b, { cookie: laptop })).sessions.length;
    expect(before).toBeGreaterThanOrEqual(3);

    const res = await post(`${b.url}/api/session.revokeOthers`, {}, { cookie: laptop });
    expect(res.json).toStrictEqual({ ok: true, revoked: before - 1 });
    for (const t of others) expect((await info(a, { authorization: `Bearer ${t}` })).error.code).toBe(10000);
    const left = (await list(a, { cookie: laptop })).sessions;
    expect(left).toHaveLength(1);
    expect(left[0]).toMatchObject({ current: true, kind: "cookie" });
  });

  it("a Cosync access-token is a listed session, revocable on its own (REST with the access-token header, and the RPC)", async () => {
    a.clock.advance(1000); // newer than the access-tokens earlier tests gave Wile (newest first: no tie)
    const mine = await wileLogin(a, from("203.0.113.5", MAC_CHROME));
    a.clock.advance(1000);
    const other = await wileLogin(a, from("198.51.100.7", WINDOWS_FIREFOX));
    const listed = await list(b, { "access-token": mine });
    expect(listed.ok).toBe(true);
    const [newest, older] = listed.sessions;
    expect(newest).toMatchObject({ kind: "access-token", browser: "Firefox 133", os: "Windows", ip: "198.51.100.7", current: false });
    expect(older).toMatchObject({ kind: "access-token", browser: "Chrome 131", ip: "203.0.113.5", current: true });

    // The same over Connect (JSON), as the typed clients call it.
    const rpc = await fetch(`${b.url}/signin.session.v1.SessionService/ListSessions`, { method: "POST", headers: { "content-type": "application/json", "access-token": mine }, body: "{}" });
    expect(((await rpc.json()) as any).sessions.map((s: any) => s.id)).toStrictEqual(listed.sessions.map((s: any) => s.id));

    expect((await post(`${b.url}/api/session.revoke`, { id: newest.id }, { "access-token": mine })).json.ok).toBe(true);
    expect((await cosync(a.url, "getUser", null, { "access-token": other })).json.code).toBe(405);
    expect((await cosync(a.url, "getUser", null, { "access-token": mine })).status).toBe(200);
    expect((await list(a, { "access-token": other })).error.code).toBe(10000);
  });

  it("administrators list an account's sessions and end one on every instance; an account-wide revocation empties the list", async () => {
    const phone = await issueToken(a, from("198.51.100.7", IPHONE_SAFARI));
    const listed = await admin(b).listSessions({ accountId: COYOTE.id });
    const entry = listed.sessions.find((s) => s.ip === "198.51.100.7" && s.kind === "bearer")!;
    expect(entry).toMatchObject({ browser: "Safari 17", os: "iOS", userAgent: IPHONE_SAFARI, rememberedDevice: false });
    expect(Number(entry.createdAt!.seconds)).toBe(Math.floor(a.clock.now() / 1000));

    await admin(b).revokeSession({ accountId: COYOTE.id, sessionId: entry.id });
    expect((await info(a, { authorization: `Bearer ${phone}` })).error.code).toBe(10000);
    await expect(admin(a).revokeSession({ accountId: COYOTE.id, sessionId: entry.id })).rejects.toSatisfy((e) => ConnectError.from(e).code === Code.NotFound);
    await expect(admin(a).listSessions({ accountId: "no-such-account" })).rejects.toSatisfy((e) => ConnectError.from(e).code === Code.NotFound);

    await issueToken(a, from("198.51.100.7", IPHONE_SAFARI));
    expect((await admin(a).listSessions({ accountId: COYOTE.id })).sessions.length).toBeGreaterThan(0);
    a.clock.advance(1000);
    b.clock.advance(1000);
    await admin(a).revokeSessions({ id: COYOTE.id });
    expect((await admin(b).listSessions({ accountId: COYOTE.id })).sessions).toStrictEqual([]);
  });
});
