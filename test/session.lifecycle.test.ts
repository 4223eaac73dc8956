// Sessions over the Yeep-style paths: cookie attributes, the three ways of presenting a
// session, rotation on refresh (the old token stops working), revocation on destroy, and
// the bearer flavour.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COYOTE, post, startTestService, uniqueName, type TestService, dropSharedSchema } from "./support/service.js";

const credentials = { user: "coyote", password: COYOTE.password };
const cookieValue = (setCookie: string | null) => /^[^=]+=([^;]*)/.exec(setCookie ?? "")?.[1] ?? "";

describe("cookie sessions", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(() => svc?.close());

  const signIn = async () => {
    const res = await post(`${svc.url}/api/session.setCookie`, credentials);
    expect(res.json.ok).toBe(true);
    return { setCookie: res.headers.get("set-cookie")!, token: cookieValue(res.headers.get("set-cookie")) };
  };
  const info = (headers: Record<string, string>) => post(`${svc.url}/api/user.info`, {}, headers);

  it("sets an HttpOnly, SameSite=Lax, Path=/ cookie named session that lives as long as the session", async () => {
    const { setCookie } = await signIn();
    const attrs = setCookie.split(";").map((s) => s.trim());
    expect(attrs[0]).toMatch(/^session=/);
    expect(attrs).toContain("HttpOnly");
    expect(attrs).toContain("SameSite=Lax");
    expect(attrs).toContain("Path=/");
    expect(attrs).not.toContain("Secure");
    const maxAge = Number(attrs.find((a) => a.startsWith("Max-Age="))!.slice(8));
    expect(maxAge).toBeGreaterThan(30 * 24 * 3600 - 5);
    expect(maxAge).toBeLessThanOrEqual(30 * 24 * 3600);
  });

  it("accepts the session as a cookie, as Authorization: Cookie and as Authorization: Bearer", async () => {
    const { token } = await signIn();
    const ways: Record<string, string>[] = [{ cookie: `other=1; session=${token}` }, { authorization: `Cookie ${token}` }, { authorization: `Bearer ${token}` }];
    for (const headers of ways) {
      const res = await info(headers);
      expect(res.json).toMatchObject({ ok: true, user: { id: COYOTE.id, username: "coyote" } });
    }
  });

  it("refuses anything else with 10000", async () => {
    const { token } = await signIn();
    const tampered = token.slice(0, -4) + (token.endsWith("AAAA") ? "BBBB" : "AAAA");
    const wrong: Record<string, string>[] = [{}, { authorization: `Basic ${token}` }, { authorization: `Bearer ${tampered}` }, { cookie: `session=${tampered}` }, { cookie: "session=" }];
    for (const headers of wrong) {
      const res = await info(headers);
      expect(res.json.ok).toBe(false);
      expect(res.json.error.code).toBe(10000);
    }
  });

  it("refreshCookie rotates: a new cookie works and the old one stops working", async () => {
    const { token: old } = await signIn();
    const res = await post(`${svc.url}/api/session.refreshCookie`, {}, { cookie: `session=${old}` });
    expect(res.json).toStrictEqual({ ok: true, user: { id: COYOTE.id } });
    const fresh = cookieValue(res.headers.get("set-cookie"));
    expect(fresh).not.toBe(old);
    expect((await info({ cookie: `session=${fresh}` })).json.ok).toBe(true);
    expect((await info({ cookie: `session=${old}` })).json.error.code).toBe(10000);
    // A second refresh of the old token is refused too (single use).
    expect((await post(`${svc.url}/api/session.refreshCookie`, {}, { cookie: `session=${old}` })).json.error.code).toBe(10000);
  });

  it("a token that expired (15 min) is refused by user.info but can still be refreshed while the session lives", async () => {
    const { token } = await signIn();
    svc.clock.advance(16 * 60 * 1000);
    expect((await info({ cookie: `session=${token}` })).json.error.code).toBe(10000);
    const res = await post(`${svc.url}/api/session.refreshCookie`, {}, { cookie: `session=${token}` });
    expect(res.json.ok).toBe(true);
    expect((await info({ cookie: `session=${cookieValue(res.headers.get("set-cookie"))}` })).json.ok).toBe(true);
  });

  it("destroyCookie revokes the session and clears the cookie", async () => {
    const { token } = await signIn();
    const res = await post(`${svc.url}/api/session.destroyCookie`, {}, { cookie: `session=${token}` });
    expect(res.json).toStrictEqual({ ok: true });
    expect(res.headers.get("set-cookie")).toMatch(/^session=; .*Max-Age=0/);
    expect((await info({ cookie: `session=${token}` })).json.error.code).toBe(10000);
    expect((await post(`${svc.url}/api/session.refreshCookie`, {}, { cookie: `session=${token}` })).json.error.code).toBe(10000);
  });
});

describe("bearer tokens", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(() => svc?.close());

  it("issueToken answers {ok, token, expiresAt, deviceToken} with expiresAt equal to the token's exp (15 min)", async () => {
    const res = await post(`${svc.url}/api/session.issueToken`, credentials);
    // deviceToken: ours (issue 16, the device credential to send back); Yeep clients ignore extra keys.
    expect(Object.keys(res.json).sort()).toStrictEqual(["deviceToken", "expiresAt", "ok", "token"]);
    const payload = JSON.parse(Buffer.from(res.json.token.split(".")[1], "base64url").toString());
    expect(new Date(res.json.expiresAt).getTime()).toBe(payload.exp * 1000);
    expect(payload.exp - payload.iat).toBe(15 * 60);
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it("refreshToken returns a new token and the old one stops working; destroyToken revokes", async () => {
    const { token } = (await post(`${svc.url}/api/session.issueToken`, credentials)).json;
    const refreshed = (await post(`${svc.url}/api/session.refreshToken`, { token })).json;
    expect(refreshed.ok).toBe(true);
    expect(refreshed.token).not.toBe(token);
    const bearer = (t: string) => post(`${svc.url}/api/user.info`, {}, { authorization: `Bearer ${t}` });
    expect((await bearer(token)).json.error.code).toBe(10000);
    expect((await bearer(refreshed.token)).json.ok).toBe(true);
    expect((await post(`${svc.url}/api/session.refreshToken`, { token })).json.error.code).toBe(10029);

    expect((await post(`${svc.url}/api/session.destroyToken`, { token: refreshed.token })).json).toStrictEqual({ ok: true });
    expect((await bearer(refreshed.token)).json.error.code).toBe(10000);
    expect((await post(`${svc.url}/api/session.refreshToken`, { token: refreshed.token })).json.error.code).toBe(10029);
  });

  it("a session ends after 30 days even if it was refreshed all along", async () => {
    let { token } = (await post(`${svc.url}/api/session.issueToken`, credentials)).json;
    for (let day = 0; day < 29; day++) {
      svc.clock.advance(24 * 3600 * 1000);
      const res = (await post(`${svc.url}/api/session.refreshToken`, { token })).json;
      expect(res.ok).toBe(true);
      token = res.token;
    }
    svc.clock.advance(24 * 3600 * 1000 + 1000);
    expect((await post(`${svc.url}/api/session.refreshToken`, { token })).json.error.code).toBe(10029);
  });

  it("refreshToken and destroyToken with garbage answer 10029, without a token 400", async () => {
    expect((await post(`${svc.url}/api/session.refreshToken`, { token: "not-a-jwt" })).json.error.code).toBe(10029);
    expect((await post(`${svc.url}/api/session.destroyToken`, { token: "a.b.c" })).json.error.code).toBe(10029);
    const res = await post(`${svc.url}/api/session.refreshToken`, {});
    expect(res.json.error).toMatchObject({ code: 400, message: "Invalid request body", details: [{ path: ["token"] }] });
  });
});

describe("secure cookies", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ COOKIE_SECURE: "true" });
  });
  afterAll(() => svc?.close());

  it("with COOKIE_SECURE=true the cookie is __Host-session and Secure, and is read back under that name", async () => {
    const res = await post(`${svc.url}/api/session.setCookie`, credentials);
    const setCookie = res.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/^__Host-session=/);
    expect(setCookie.split(";").map((s) => s.trim())).toContain("Secure");
    const token = cookieValue(setCookie);
    expect((await post(`${svc.url}/api/user.info`, {}, { cookie: `__Host-session=${token}` })).json.ok).toBe(true);
    expect((await post(`${svc.url}/api/user.info`, {}, { cookie: `session=${token}` })).json.error.code).toBe(10000);
  });
});

describe("restarts", () => {
  it("a token issued before a restart is accepted after it (keys in the database, sessions in Redis)", async () => {
    const env = {
      DATA_DIR: mkdtempSync(join(tmpdir(), "signin-data-")),
      DATABASE_SCHEMA: uniqueName("restart"),
      REDIS_KEY_PREFIX: `${uniqueName("restart")}:`,
    };
    const first = await startTestService(env);
    const { token } = (await post(`${first.url}/api/session.issueToken`, credentials)).json;
    await first.close();
    const second = await startTestService(env);
    try {
      expect((await post(`${second.url}/api/user.info`, {}, { authorization: `Bearer ${token}` })).json.user.id).toBe(COYOTE.id);
    } finally {
      await second.close();
      await dropSharedSchema(env.DATABASE_SCHEMA);
    }
  });
});
