// CSRF on the session cookie: a request the cookie authenticates (and every setCookie) must come from
// the service's own pages or CORS_ORIGINS, by Sec-Fetch-Site or Origin, and carry a JSON body; bearer
// requests and non-browser clients (neither header) stay as they were. Plain fetch first, then a real
// Chromium page on another origin of the same site (where SameSite=Lax does not stop the cookie).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserService } from "../gen/signin/session/v1/user_pb.js";
import { haveChromium, launchChromium } from "./support/browser.js";
import { COYOTE, post, startTestService, type TestService } from "./support/service.js";

const APP = "https://app.example.com";
const EVIL = "https://evil.example";
const credentials = { user: "coyote", password: COYOTE.password };
const cookieValue = (setCookie: string | null) => /^session=([^;]*)/.exec(setCookie ?? "")?.[1] ?? "";

describe("cookie requests from other origins (plain fetch)", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ CORS_ORIGINS: APP });
  });
  afterAll(() => svc?.close());

  const signIn = async () => cookieValue((await post(`${svc.url}/api/session.setCookie`, credentials)).headers.get("set-cookie"));
  const stillSignedIn = async (token: string) => (await post(`${svc.url}/api/user.info`, {}, { cookie: `session=${token}` })).json.ok === true;
  /** Whether a TOTP enrollment waits for activation (activate answers 10033 when none does). */
  const pendingTotp = async (token: string) => (await post(`${svc.url}/api/totp.activate`, { token: "000000" }, { cookie: `session=${token}` })).json.error.code !== 10033;
  /** A raw POST: the body and headers exactly as given (no content type unless given). */
  const raw = async (path: string, headers: Record<string, string>, body?: string) => {
    const res = await fetch(`${svc.url}${path}`, { method: "POST", headers, body });
    return { status: res.status, headers: res.headers, json: (await res.json()) as any };
  };

  it("refuses a cookie request whose Origin is neither this service nor CORS_ORIGINS (10012), and changes nothing", async () => {
    const token = await signIn();
    for (const path of ["/api/session.destroyCookie", "/api/totp.enroll", "/api/session.refreshCookie", "/api/user.info"]) {
      const res = await post(`${svc.url}${path}`, {}, { cookie: `session=${token}`, origin: EVIL });
      expect(res.status, path).toBe(200);
      expect(res.json, path).toMatchObject({ ok: false, error: { code: 10012 } });
      expect(res.json.error.message, path).toMatch(/cross-origin request refused \(Origin: https:\/\/evil\.example/);
      expect(res.headers.get("set-cookie"), path).toBeNull();
    }
    expect(await stillSignedIn(token)).toBe(true);
    expect(await pendingTotp(token)).toBe(false); // the refused totp.enroll started nothing
  });

  it("refuses Sec-Fetch-Site cross-site and same-site (from an origin not listed)", async () => {
    const token = await signIn();
    for (const site of ["cross-site", "same-site"]) {
      const res = await post(`${svc.url}/api/session.destroyCookie`, {}, { cookie: `session=${token}`, "sec-fetch-site": site });
      expect(res.json, site).toMatchObject({ ok: false, error: { code: 10012 } });
    }
    const sibling = await post(`${svc.url}/api/session.destroyCookie`, {}, { cookie: `session=${token}`, "sec-fetch-site": "same-site", origin: "http://127.0.0.1:1" });
    expect(sibling.json.error.code).toBe(10012);
    expect(await stillSignedIn(token)).toBe(true);
  });

  it("refuses a cookie request without a JSON body (text/plain, form, none, even empty): no preflight guards those", async () => {
    const token = await signIn();
    const bodies: Array<[Record<string, string>, string | undefined]> = [
      [{ "content-type": "text/plain" }, ""],
      [{ "content-type": "text/plain" }, "{}"],
      [{ "content-type": "application/x-www-form-urlencoded" }, ""],
      [{}, undefined],
      [{}, "{}"],
    ];
    for (const [headers, body] of bodies) {
      const res = await raw("/api/session.destroyCookie", { cookie: `session=${token}`, ...headers }, body);
      expect(res.json, JSON.stringify([headers, body])).toMatchObject({ ok: false, error: { code: 400, message: "Invalid request body" } });
      expect(res.json.error.details[0].message).toMatch(/^Content-Type must be application\/json/);
    }
    expect(await stillSignedIn(token)).toBe(true);
  });

  it("refuses setCookie from another origin (login CSRF): no cookie is set", async () => {
    const res = await post(`${svc.url}/api/session.setCookie`, credentials, { origin: EVIL });
    expect(res.json).toMatchObject({ ok: false, error: { code: 10012 } });
    expect(res.headers.get("set-cookie")).toBeNull();
    expect((await post(`${svc.url}/api/session.setCookie`, credentials, { "sec-fetch-site": "cross-site" })).json.error.code).toBe(10012);
  });

  it("accepts this service's own pages, CORS_ORIGINS, non-browser clients and bearer tokens", async () => {
    const token = await signIn();
    const cookie = `session=${token}`;
    const own = new URL(svc.url).origin;
    const accepted: Record<string, string>[] = [{ cookie }, { cookie, origin: own }, { cookie, origin: APP }, { cookie, origin: APP, "sec-fetch-site": "cross-site" }, { cookie, "sec-fetch-site": "same-origin" }, { cookie, "sec-fetch-site": "none" }];
    for (const headers of accepted) {
      expect((await post(`${svc.url}/api/user.info`, {}, headers)).json.ok, JSON.stringify(headers)).toBe(true);
    }
    // A bearer (or Authorization: Cookie) request cannot be forged by a page: it stays as it was.
    for (const authorization of [`Bearer ${token}`, `Cookie ${token}`]) {
      expect((await post(`${svc.url}/api/user.info`, {}, { authorization, origin: EVIL, "sec-fetch-site": "cross-site" })).json.ok).toBe(true);
      expect((await raw("/api/user.info", { authorization, "content-type": "text/plain" }, "")).json.ok).toBe(true);
    }
    expect((await post(`${svc.url}/api/session.setCookie`, credentials, { origin: APP })).json.ok).toBe(true);
    expect((await post(`${svc.url}/api/session.setCookie`, credentials, { origin: own, "sec-fetch-site": "same-origin" })).json.ok).toBe(true);
    expect(await stillSignedIn(token)).toBe(true);
  });

  it("applies the same rule on Connect: permission_denied for a cookie call from another origin", async () => {
    const token = await signIn();
    const user = (headers: Record<string, string>) =>
      createClient(UserService, createConnectTransport({ baseUrl: svc.url, httpVersion: "1.1" }))
        .info({}, { headers: { cookie: `session=${token}`, ...headers } })
        .then((r) => r.user?.username, (e) => ConnectError.from(e).code);
    expect(await user({ origin: EVIL })).toBe(Code.PermissionDenied);
    expect(await user({ "sec-fetch-site": "cross-site" })).toBe(Code.PermissionDenied);
    expect(await user({ origin: new URL(svc.url).origin })).toBe("coyote");
    expect(await user({ origin: APP })).toBe("coyote");
    expect(await user({})).toBe("coyote");
  });
});

describe.skipIf(!haveChromium)("a page on another origin of the same site, in Chromium", () => {
  let svc: TestService;
  let browser: Browser;
  let attacker: Server;
  let attackerUrl: string;
  beforeAll(async () => {
    svc = await startTestService();
    // Another port of the same host: cross-origin but same-site, so the Lax cookie travels with its requests.
    attacker = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>elsewhere</title>"));
    await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
    attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => attacker?.close(resolve));
    await svc?.close();
  });

  it("cannot end the session or enroll TOTP with the victim's cookie (no-cors fetch, text/plain form)", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      // The victim signs in on the service's own page (its own origin: accepted).
      await page.goto(svc.url);
      await page.getByLabel("Username or email").fill(COYOTE.username);
      await page.getByLabel("Password", { exact: true }).fill(COYOTE.password);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.getByRole("heading", { name: "Your account" }).waitFor();
      const token = (await context.cookies()).find((c) => c.name === "session")!.value;

      // Then visits the other page, which fires requests the browser sends without a preflight.
      await page.goto(attackerUrl);
      const sent = await page.evaluate(async (target) => {
        const opts = { method: "POST", mode: "no-cors", credentials: "include" } as const;
        await fetch(`${target}/api/totp.enroll`, opts);
        await fetch(`${target}/api/totp.enroll`, { ...opts, headers: { "content-type": "text/plain" }, body: "{}" });
        await fetch(`${target}/api/session.destroyCookie`, opts);
        return true;
      }, svc.url);
      expect(sent).toBe(true);
      const form = page.waitForURL(`${svc.url}/api/session.destroyCookie`);
      await page.evaluate((target) => {
        const f = Object.assign(document.createElement("form"), { method: "POST", enctype: "text/plain", action: `${target}/api/session.destroyCookie` });
        document.body.append(f);
        f.submit();
      }, svc.url);
      await form;
      expect(JSON.parse((await page.locator("body").textContent()) ?? "{}")).toMatchObject({ ok: false, error: { code: 10012 } });

      // The session lives, and no TOTP enrollment is pending.
      expect((await post(`${svc.url}/api/user.info`, {}, { cookie: `session=${token}` })).json.ok).toBe(true);
      expect((await post(`${svc.url}/api/totp.activate`, { token: "000000" }, { cookie: `session=${token}` })).json.error.code).toBe(10033);
      // And the service's own page still signs out with the same cookie (same-origin: accepted).
      await page.goto(svc.url);
      await page.getByRole("button", { name: "Sign out" }).click();
      await expect.poll(() => page.getByRole("alert").textContent()).toBe("You are signed out.");
      expect((await post(`${svc.url}/api/user.info`, {}, { cookie: `session=${token}` })).json.error.code).toBe(10000);
    } finally {
      await context.close();
    }
  });
});
