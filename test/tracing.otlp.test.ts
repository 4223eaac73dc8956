// Tracing end to end: the service exports its spans by OTLP/HTTP (JSON) to a real receiver (an HTTP
// server in this test), the sign-in's steps are children of the request's SERVER span, which continues
// the caller's W3C traceparent; a refusal by a limit (10429) has its span; nothing secret is recorded.
// The spans are read after close(), which flushes the SDK's batch (no waiting on its timer).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { trace } from "@opentelemetry/api";
import { afterEach, describe, expect, it } from "vitest";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { loadConfig } from "../src/config.js";
import { APP_TOKENS, COSYNC_APPS, COSYNC_USERS, cosync, md5, WILE } from "./support/cosync.js";
import { COYOTE, post, ROADRUNNER, startTestService, type TestService } from "./support/service.js";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  resource: Record<string, unknown>;
}

/** An OTLP/HTTP receiver: every span POSTed to /v1/traces, flattened, with its resource's attributes. */
async function otlpReceiver(): Promise<{ url: string; spans: OtlpSpan[]; close(): Promise<void> }> {
  const spans: OtlpSpan[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      expect(req.url).toBe("/v1/traces");
      expect(req.headers["content-type"]).toMatch(/^application\/json/);
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      for (const rs of body.resourceSpans ?? []) {
        const resource = attrs(rs.resource?.attributes ?? []);
        for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) spans.push({ ...s, resource });
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function attrs(list: Array<{ key: string; value: Record<string, unknown> }>): Record<string, unknown> {
  return Object.fromEntries(list.map(({ key, value }) => [key, Object.values(value)[0]]));
}

const running: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.close();
});

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const traceparent = (parent: string) => ({ traceparent: `00-${TRACE_ID}-${parent}-01` });
const signIn = (svc: TestService, body: unknown, headers: Record<string, string> = {}) => post(`${svc.url}/api/session.setCookie`, body, headers);

describe("tracing (OTEL_EXPORTER_OTLP_ENDPOINT set)", () => {
  it("exports one SERVER span per request, continuing the caller's trace, with the sign-in's steps and store calls as its descendants", async () => {
    const receiver = await otlpReceiver();
    running.push(receiver);
    const svc = await startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, LIMIT_IP_REQUESTS: "2/600" });

    const signedIn = await signIn(svc, { user: "coyote", password: COYOTE.password }, traceparent("00f067aa0ba902b7"));
    expect(signedIn.json.ok).toBe(true);
    // A wrong TOTP code: the second-factor step has its span.
    const wrongCode = await signIn(svc, { user: "roadrunner", password: ROADRUNNER.password, secondaryAuthFactor: { type: "TOTP", token: "000000" } }, traceparent("00f067aa0ba902b8"));
    expect(wrongCode.json.ok).toBe(false);
    const health = await fetch(`${svc.url}/grpc.health.v1.Health/Check`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(health.status).toBe(200);
    // The IP's sign-in budget (2) is spent: refused by the limit.
    const limited = await signIn(svc, { user: "coyote", password: COYOTE.password }, traceparent("00f067aa0ba902b9"));
    expect(limited.json.error.code).toBe(10429);
    await svc.close(); // flushes the batch
    running.pop();

    const { spans } = receiver;
    const servers = spans.filter((s) => s.kind === 2);
    expect(servers.map((s) => s.name).sort()).toStrictEqual(["POST /api/session.setCookie", "POST /api/session.setCookie", "POST /api/session.setCookie", "grpc.health.v1.Health/Check"].sort());
    expect(servers[0]!.resource["service.name"]).toBe("signin");

    // The successful sign-in: the caller's trace continued, its parent the caller's span.
    const root = servers.find((s) => s.parentSpanId === "00f067aa0ba902b7")!;
    expect(root.traceId).toBe(TRACE_ID);
    expect(attrs(root.attributes)).toMatchObject({ "signin.surface": "yeep", "signin.outcome": "ok", "http.route": "/api/session.setCookie", "http.response.status_code": 200 });
    const children = (parent: OtlpSpan) => spans.filter((s) => s.parentSpanId === parent.spanId);
    const descendants = (parent: OtlpSpan): OtlpSpan[] => children(parent).flatMap((c) => [c, ...descendants(c)]);
    const below = descendants(root);
    expect(below.every((s) => s.traceId === TRACE_ID)).toBe(true);
    const steps = children(root).map((s) => s.name);
    for (const step of ["signin.limits", "signin.account_lookup", "signin.password", "signin.issue", "signin.deliver"]) expect(steps).toContain(step);
    const password = children(root).find((s) => s.name === "signin.password")!;
    expect(children(password).map((s) => s.name)).toContain("password.hash");
    // Store calls: Redis (sessions, caches) and PostgreSQL, each a CLIENT span in the tree.
    const clients = below.filter((s) => s.kind === 3);
    expect(clients.some((s) => s.name.startsWith("redis "))).toBe(true);
    expect(clients.some((s) => s.name === "postgres SELECT")).toBe(true);

    const second = servers.find((s) => s.parentSpanId === "00f067aa0ba902b8")!;
    expect(children(second).map((s) => s.name)).toContain("signin.second_factor");
    expect(attrs(second.attributes)).toMatchObject({ "signin.outcome": "refused", "signin.failure": "INVALID_SECOND_FACTOR" });

    // The refused attempt has its span, with the reason, and no password step (the limit answered first).
    const refused = servers.find((s) => s.parentSpanId === "00f067aa0ba902b9")!;
    expect(refused.traceId).toBe(TRACE_ID);
    expect(attrs(refused.attributes)).toMatchObject({ "signin.outcome": "refused", "signin.failure": "TOO_MANY_ATTEMPTS" });
    expect(children(refused).map((s) => s.name)).toContain("signin.limits");
    expect(children(refused).map((s) => s.name)).not.toContain("signin.password");

    const rpc = servers.find((s) => s.name === "grpc.health.v1.Health/Check")!;
    expect(attrs(rpc.attributes)).toMatchObject({ "signin.surface": "rpc", "rpc.system": "connect_rpc", "rpc.service": "grpc.health.v1.Health", "signin.outcome": "ok" });

    // Never a secret in an attribute: no password, code, session token or cookie.
    const everything = spans.flatMap((s) => s.attributes.map((a) => String(Object.values(a.value)[0]))).join("\n");
    for (const secret of [COYOTE.password, ROADRUNNER.password, "000000"]) expect(everything).not.toContain(secret);
    const cookies = signedIn.headers.getSetCookie().map((c) => c.split(";", 1)[0]!.split("=")[1]!);
    expect(cookies.length).toBeGreaterThan(0);
    for (const value of cookies) expect(everything).not.toContain(value);
  });
});

describe("tracing: gRPC over HTTP/2", () => {
  it("a gRPC call continues the caller's trace in a SERVER span named after the method, not marked aborted", async () => {
    const receiver = await otlpReceiver();
    running.push(receiver);
    const svc = await startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    const client = createClient(Health, createGrpcTransport({ baseUrl: svc.url }));
    await client.check({}, { headers: traceparent("00f067aa0ba902d1") });
    await svc.close();
    running.pop();
    const [span, ...others] = receiver.spans.filter((s) => s.kind === 2);
    expect(others).toHaveLength(0);
    expect(span).toMatchObject({ name: "grpc.health.v1.Health/Check", traceId: TRACE_ID, parentSpanId: "00f067aa0ba902d1" });
    const a = attrs(span!.attributes);
    expect(a).toMatchObject({ "signin.surface": "rpc", "signin.outcome": "ok", "http.response.status_code": 200 });
    expect(a["signin.aborted"]).toBeUndefined();
  });
});

describe("tracing: an HTTP 429", () => {
  it("a Cosync login refused by a limit (HTTP 429) has its SERVER span, with the status and the reason", async () => {
    const receiver = await otlpReceiver();
    running.push(receiver);
    const svc = await startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, LIMIT_IP_REQUESTS: "1/600" }, COSYNC_USERS, COSYNC_APPS);
    const login = () => cosync(svc.url, "login", { handle: WILE.handle, password: md5(WILE.password) }, { "app-token": APP_TOKENS.acme, ...traceparent("00f067aa0ba902c1") });
    expect((await login()).status).toBe(200);
    expect((await login()).status).toBe(429);
    await svc.close();
    running.pop();
    const servers = receiver.spans.filter((s) => s.kind === 2).map((s) => attrs(s.attributes));
    expect(servers).toHaveLength(2);
    expect(servers.find((a) => a["http.response.status_code"] === 429)).toMatchObject({ "signin.surface": "cosync", "http.route": "/api/appuser/login", "signin.outcome": "refused", "signin.failure": "TOO_MANY_ATTEMPTS" });
    expect(receiver.spans.every((s) => s.traceId === TRACE_ID || s.kind !== 2)).toBe(true);
  });
});

describe("tracing: the hash's wait", () => {
  it("a sign-in that queues for a hashing slot has a password.hash_wait span beside its password.hash", async () => {
    const receiver = await otlpReceiver();
    running.push(receiver);
    const svc = await startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, HASH_CONCURRENCY: "1" });
    // Six at once on one slot: all but the first to reach it wait.
    const users = [COYOTE.username, ROADRUNNER.username, "nobody1", "nobody2", "nobody3", "nobody4"];
    const answers = await Promise.all(users.map((user) => signIn(svc, { user, password: "wrong" })));
    expect(answers.map((r) => r.json.error.code)).toStrictEqual(users.map(() => 10002));
    await svc.close();
    running.pop();
    const waits = receiver.spans.filter((s) => s.name === "password.hash_wait");
    expect(waits.length).toBeGreaterThan(0);
    expect(waits.length).toBeLessThan(users.length);
    for (const wait of waits) {
      const parent = receiver.spans.find((s) => s.spanId === wait.parentSpanId)!;
      expect(parent.name).toBe("signin.password");
      expect(receiver.spans.filter((s) => s.parentSpanId === parent.spanId).map((s) => s.name).sort()).toStrictEqual(["password.hash", "password.hash_wait"]);
    }
  });
});

describe("tracing off (no OTLP endpoint)", () => {
  it("starts no SDK: the global tracer provider stays the no-op one, and requests are served as before", async () => {
    const svc = await startTestService({});
    running.push(svc);
    expect(svc.config.tracing).toBeNull();
    expect((await signIn(svc, { user: "coyote", password: COYOTE.password }, traceparent("00f067aa0ba902b7"))).json.ok).toBe(true);
    expect(trace.getTracerProvider().getTracer("probe").startSpan("probe").isRecording()).toBe(false);
  });
});

describe("OTEL_* settings", () => {
  const env = (vars: Record<string, string>) => loadConfig({ DATA_DIR: "memory://", ...vars }).tracing;
  it("turns tracing on by an endpoint (the traces URL derived or given), off when disabled", () => {
    expect(env({})).toBeNull();
    expect(env({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" })).toStrictEqual({ tracesUrl: "http://collector:4318/v1/traces" });
    expect(env({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://b/traces" })).toStrictEqual({ tracesUrl: "https://b/traces" });
    expect(env({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_SDK_DISABLED: "true" })).toBeNull();
  });
  it("refuses at start-up what the SDK would only log and ignore, naming the variable", () => {
    expect(() => env({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT must be an http\(s\) URL/);
    expect(() => env({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL: only http\/json/);
    expect(() => env({ OTEL_TRACES_SAMPLER: "sometimes" })).toThrow(/OTEL_TRACES_SAMPLER must be one of/);
    expect(() => env({ OTEL_TRACES_SAMPLER_ARG: "2" })).toThrow(/OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1/);
    expect(() => env({ OTEL_SDK_DISABLED: "yes" })).toThrow(/OTEL_SDK_DISABLED must be true or false/);
  });
});
