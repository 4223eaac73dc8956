// Running it: liveness and readiness over HTTP and grpc.health.v1 (with Redis, and with the in-process
// store), and a SIGTERM that lets every sign-in in flight complete before the process exits.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../gen/grpc/health/v1/health_pb.js";
import { SessionService } from "../gen/signin/session/v1/session_pb.js";
import { readiness } from "../src/transport/readiness.js";
import { spawnService } from "./support/spawn.js";
import { bootstrapFile, COYOTE, post, startTestService, testEnv, type TestService } from "./support/service.js";

describe("health", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(() => svc?.close());

  it("GET /healthz is live; GET /readyz reports the database and Redis", async () => {
    expect(await (await fetch(`${svc.url}/healthz`)).json()).toStrictEqual({ status: "ok" });
    const ready = await fetch(`${svc.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toStrictEqual({ status: "ready", checks: { database: true, redis: true } });
  });

  it("every response carries a request id: the caller's X-Request-Id, or a new one", async () => {
    expect((await fetch(`${svc.url}/healthz`, { headers: { "x-request-id": "abc-123" } })).headers.get("x-request-id")).toBe("abc-123");
    expect((await fetch(`${svc.url}/healthz`)).headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect((await fetch(`${svc.url}/healthz`, { headers: { "x-request-id": "bad id; with spaces" } })).headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("grpc.health.v1.Health answers SERVING for the whole server and each service, NOT_FOUND for others", async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl: svc.url }));
    expect((await health.check({})).status).toBe(Status.SERVING);
    expect((await health.check({ service: "signin.session.v1.SessionService" })).status).toBe(Status.SERVING);
    const err = await health.check({ service: "nope.Service" }).then(() => null, (e) => ConnectError.from(e));
    expect(err?.code).toBe(Code.NotFound);
  });
});

describe("health without Redis (the in-process store)", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ REDIS_URL: "" });
  });
  afterAll(() => svc?.close());

  it('GET /readyz says "memory" for the store instead of claiming a Redis; ready, and SERVING over gRPC', async () => {
    const ready = await fetch(`${svc.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toStrictEqual({ status: "ready", checks: { database: true, redis: "memory" } });
    const health = createClient(Health, createGrpcTransport({ baseUrl: svc.url }));
    expect((await health.check({})).status).toBe(Status.SERVING);
  });
});

describe("readiness report", () => {
  it('is not ready when a probe fails or throws, "memory" never fails it, and each check is named', async () => {
    expect(await readiness({ database: async () => true, redis: "memory" })()).toStrictEqual({ ready: true, checks: { database: true, redis: "memory" } });
    expect(await readiness({ database: async () => false, redis: "memory" })()).toStrictEqual({ ready: false, checks: { database: false, redis: "memory" } });
    const down = readiness({ database: async () => true, redis: () => Promise.reject(new Error("ECONNREFUSED")) });
    expect(await down()).toStrictEqual({ ready: false, checks: { database: true, redis: false } });
  });
});

describe("metrics", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ LIMIT_ACCOUNT_IP_FAILURES: "2", METRICS_PORT: "0" });
  });
  afterAll(() => svc?.close());

  // Scraped on the metrics listener (METRICS_PORT): the API port does not serve /metrics.
  const scrape = async () => {
    const res = await fetch(svc.metricsUrl!);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    return res.text();
  };
  const value = (text: string, series: string) => {
    const line = text.split("\n").find((l) => l.startsWith(series + " "));
    return line ? Number(line.slice(series.length + 1)) : 0;
  };

  it("counts sign-ins by surface and outcome, rate-limit rejections, hash durations and request latency", async () => {
    const before = await scrape();
    await post(`${svc.url}/api/session.setCookie`, { user: "coyote", password: COYOTE.password });
    for (let i = 0; i < 3; i++) await post(`${svc.url}/api/session.setCookie`, { user: "coyote", password: "wrong" });
    const client = createClient(SessionService, createGrpcTransport({ baseUrl: svc.url }));
    await client.issueToken({ user: "roadrunner", password: "nope" }).catch(() => {});
    const after = await scrape();

    const delta = (series: string) => value(after, series) - value(before, series);
    expect(delta('signin_decisions_total{surface="yeep",event="sign_in.success",reason=""}')).toBe(1);
    expect(delta('signin_decisions_total{surface="yeep",event="sign_in.failure",reason="wrong_password"}')).toBe(2);
    expect(delta('signin_decisions_total{surface="yeep",event="sign_in.blocked",reason="account-ip"}')).toBe(1);
    expect(delta('signin_rate_limited_total{limiter="account-ip"}')).toBe(1);
    expect(delta('signin_decisions_total{surface="rpc",event="sign_in.failure",reason="wrong_password"}')).toBe(1);
    expect(delta("signin_password_hash_seconds_count")).toBe(4); // the blocked attempt hashed nothing
    expect(delta('signin_request_duration_seconds_count{surface="yeep",method="SetCookie",outcome="ok"}')).toBe(1);
    expect(delta('signin_request_duration_seconds_count{surface="rpc",method="IssueToken",outcome="refused"}')).toBe(1);
    expect(after).toContain("signin_password_hash_queue_depth 0");
  });
});

describe("graceful shutdown", () => {
  it("SIGTERM while sign-ins are in flight: every one of them completes, then the process exits 0", async () => {
    const env = { ...process.env, ...testEnv({ SIGNIN_BOOTSTRAP: bootstrapFile({ users: [COYOTE] }), HASH_CONCURRENCY: "1", LIMIT_IP_REQUESTS: "1000/60", LIMIT_ACCOUNT_IP_FAILURES: "20" }) };
    const { url, child, exited } = await spawnService(env);

    // (8 at once from one IP: over the default 5 attempts of one account per IP in flight.) Each on a
    // connection of its own: a request queued for a pooled keep-alive connection could be sent just as the
    // shutdown closes that idle connection (the keep-alive race every HTTP server has), which is not in flight.
    const inFlight = Array.from({ length: 8 }, () => postOnNewConnection(`${url}/api/session.setCookie`, { user: "coyote", password: COYOTE.password }));
    await Promise.race(inFlight); // the first is done, the others are still hashing one at a time
    child.kill("SIGTERM");
    const answers = await Promise.all(inFlight);
    for (const a of answers) expect(a.json).toStrictEqual({ ok: true, user: { id: COYOTE.id } });
    expect(await exited).toBe(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});

function postOnNewConnection(url: string, body: unknown): Promise<{ json: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", agent: false, headers: { "content-type": "application/json" } }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d));
      res.on("end", () => resolve({ json: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}
