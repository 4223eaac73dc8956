// /metrics off the public API: 404 on the API port unless METRICS_TOKEN is presented; served on
// METRICS_PORT (METRICS_HOST, loopback by default), behind the token when one is set. And the
// settings: bad values name their variable; COOKIE_SECURE follows TLS unless set.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { COYOTE, post, startTestService, type TestService } from "./support/service.js";

const TOKEN = "metrics-token-0123456789abcdef0123456789";
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("/metrics on the API port", () => {
  let plain: TestService;
  let tokened: TestService;
  beforeAll(async () => {
    plain = await startTestService();
    tokened = await startTestService({ METRICS_TOKEN: TOKEN });
  });
  afterAll(async () => {
    await plain?.close();
    await tokened?.close();
  });

  it("is 404 (as an unknown path) without METRICS_TOKEN, whatever is presented; no listener of its own by default", async () => {
    for (const headers of [{}, bearer(TOKEN)]) {
      const res = await fetch(`${plain.url}/metrics`, { headers });
      expect(res.status).toBe(404);
      expect(await res.json()).toStrictEqual({ code: "not_found", message: "Not found" });
    }
    expect(plain.metricsUrl).toBeUndefined();
  });

  it("with METRICS_TOKEN answers only the scraper presenting it; everyone else gets 404", async () => {
    for (const headers of [{}, bearer("metrics-token-0123456789abcdef012345678X"), { authorization: TOKEN }]) {
      expect((await fetch(`${tokened.url}/metrics`, { headers })).status).toBe(404);
    }
    await post(`${tokened.url}/api/session.setCookie`, { user: "coyote", password: COYOTE.password });
    const res = await fetch(`${tokened.url}/metrics`, { headers: bearer(TOKEN) });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await res.text()).toMatch(/^signin_decisions_total\{surface="yeep",event="sign_in.success",reason=""\} 1$/m);
  });
});

describe("METRICS_PORT", () => {
  let svc: TestService;
  let guarded: TestService;
  beforeAll(async () => {
    svc = await startTestService({ METRICS_PORT: "0" });
    guarded = await startTestService({ METRICS_PORT: "0", METRICS_TOKEN: TOKEN });
  });
  afterAll(async () => {
    await svc?.close();
    await guarded?.close();
  });

  it("serves /metrics on its own listener on 127.0.0.1, and nothing else there; the API port stays 404", async () => {
    expect(svc.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(new URL(svc.metricsUrl!).port).not.toBe(new URL(svc.url).port);
    await post(`${svc.url}/api/session.setCookie`, { user: "coyote", password: "wrong" });
    const res = await fetch(svc.metricsUrl!);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^signin_decisions_total\{surface="yeep",event="sign_in.failure",reason="wrong_password"\} 1$/m);
    expect((await fetch(svc.metricsUrl!, { method: "HEAD" })).status).toBe(200);
    expect((await fetch(svc.metricsUrl!, { method: "POST" })).status).toBe(405);
    expect((await fetch(new URL("/api/user.info", svc.metricsUrl!))).status).toBe(404);
    expect((await fetch(`${svc.url}/metrics`)).status).toBe(404);
  });

  it("asks for METRICS_TOKEN there too when one is set (401 naming it)", async () => {
    const refused = await fetch(guarded.metricsUrl!);
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await refused.json()).message).toMatch(/METRICS_TOKEN/);
    expect((await fetch(guarded.metricsUrl!, { headers: bearer(TOKEN) })).status).toBe(200);
  });

  it("a METRICS_PORT in use stops the start-up naming METRICS_PORT", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    try {
      const port = String((taken.address() as AddressInfo).port);
      await expect(startTestService({ METRICS_PORT: port })).rejects.toThrow(new RegExp(`METRICS_PORT: ${port} is already in use`));
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});

describe("settings", () => {
  it.each([
    [{ METRICS_TOKEN: "short" }, /METRICS_TOKEN must be at least 32 characters/],
    [{ METRICS_PORT: "nine" }, /METRICS_PORT must be a whole number from 0 to 65535/],
    [{ METRICS_PORT: "8080" }, /METRICS_PORT must differ from PORT/],
    [{ METRICS_PORT: "9464", METRICS_HOST: "999.1.1.1" }, /METRICS_HOST: "999.1.1.1" is not a valid IP address/],
    [{ MAX_HEALTH_WATCHES: "0" }, /MAX_HEALTH_WATCHES must be a whole number from 1/],
    [{ MAX_HEALTH_WATCHES_PER_IP: "x" }, /MAX_HEALTH_WATCHES_PER_IP must be a whole number/],
  ])("refuses %o", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it("reads the metrics and Watch settings, with their defaults", () => {
    expect(loadConfig({})).toMatchObject({ metrics: { port: null, host: "127.0.0.1", token: null }, healthWatch: { maxStreams: 1024, maxStreamsPerIp: 8 } });
    expect(loadConfig({ METRICS_PORT: "9464", METRICS_HOST: "::", METRICS_TOKEN: TOKEN }).metrics).toStrictEqual({ port: 9464, host: "::", token: TOKEN });
  });

  it("COOKIE_SECURE is on by default when the service serves TLS, off without; an explicit value wins", () => {
    const dir = mkdtempSync(join(tmpdir(), "signin-tls-"));
    const [cert, key] = [join(dir, "cert.pem"), join(dir, "key.pem")];
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost", "-days", "1", "-keyout", key, "-out", cert], { stdio: "ignore" });
    const tls = { TLS_CERT: cert, TLS_KEY: key };
    expect(loadConfig({}).cookieSecure).toBe(false);
    expect(loadConfig(tls).cookieSecure).toBe(true);
    expect(loadConfig({ ...tls, COOKIE_SECURE: "false" }).cookieSecure).toBe(false);
    expect(loadConfig({ COOKIE_SECURE: "true" }).cookieSecure).toBe(true);
  });
});
