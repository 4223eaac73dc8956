// grpc.health.v1 Watch: a stream leaves no abort listener behind per round, and how many streams run
// at once is bounded per client IP and per process (resource_exhausted beyond; a closed one frees its slot).
import { getEventListeners } from "node:events";
import { Code, ConnectError, createClient, createContextValues, createHandlerContext } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { Health, HealthCheckRequestSchema, HealthCheckResponse_ServingStatus as Status } from "../gen/grpc/health/v1/health_pb.js";
import { UNKNOWN_CONTEXT } from "../src/core/request-context.js";
import type { Readiness } from "../src/transport/readiness.js";
import { requestContextKey } from "../src/transport/request-context.js";
import { healthService } from "../src/transport/services/health-service.js";
import { startTestService, type TestService } from "./support/service.js";

describe("Watch rounds", () => {
  it("keeps at most one abort listener on the stream's signal however many rounds it runs", async () => {
    const ROUNDS = 200;
    let rounds = 0;
    const listeners: number[] = [];
    const abort = new AbortController();
    const ctx = createHandlerContext({
      service: Health,
      method: Health.method.watch,
      protocolName: "grpc",
      requestMethod: "POST",
      url: "http://127.0.0.1/grpc.health.v1.Health/Watch",
      requestSignal: abort.signal,
      contextValues: createContextValues().set(requestContextKey, { ...UNKNOWN_CONTEXT, ip: "192.0.2.1" }),
    });
    const baseline = getEventListeners(ctx.signal, "abort").length;
    let done!: () => void;
    const reached = new Promise<void>((resolve) => (done = resolve));
    // Each round reads readiness once: this one counts the rounds and looks at the signal meanwhile.
    const ready: Readiness = async () => {
      listeners.push(getEventListeners(ctx.signal, "abort").length - baseline);
      if (++rounds === ROUNDS) done();
      return { ready: true, checks: {} };
    };
    const stream = healthService(ready, [], { maxStreams: 10, maxStreamsPerIp: 10, intervalMs: 0 }).watch(create(HealthCheckRequestSchema), ctx)[Symbol.asyncIterator]();
    expect((await stream.next()).value).toMatchObject({ status: Status.SERVING });
    const rest = stream.next(); // the status never changes: this waits, round after round
    await reached;
    expect(Math.max(...listeners)).toBeLessThanOrEqual(1);
    abort.abort();
    expect(await rest).toMatchObject({ done: true });
    expect(getEventListeners(ctx.signal, "abort").length - baseline).toBeLessThanOrEqual(0);
  });
});

describe("Watch streams over gRPC", () => {
  let svc: TestService;
  beforeAll(async () => {
    // Behind a trusted proxy, X-Forwarded-For gives each stream its client.
    svc = await startTestService({ MAX_HEALTH_WATCHES: "3", MAX_HEALTH_WATCHES_PER_IP: "2", TRUSTED_PROXIES: "127.0.0.1" });
  });
  afterAll(() => svc?.close());

  /** Opens a Watch as `ip`; resolves once its first status arrived, or with the refusal's code. */
  const watch = async (ip: string) => {
    const abort = new AbortController();
    const health = createClient(Health, createGrpcTransport({ baseUrl: svc.url }));
    const stream = health.watch({}, { signal: abort.signal, headers: { "x-forwarded-for": ip } })[Symbol.asyncIterator]();
    const first = await stream.next().then(
      (r) => (r.value as { status: Status }).status,
      (e: unknown) => ConnectError.from(e).code,
    );
    return { first, close: () => abort.abort() };
  };

  it("refuses the N+1-th stream from one client, then beyond the process's bound; a closed stream frees its slot", async () => {
    const a1 = await watch("198.51.100.1");
    const a2 = await watch("198.51.100.1");
    expect([a1.first, a2.first]).toStrictEqual([Status.SERVING, Status.SERVING]);
    expect((await watch("198.51.100.1")).first).toBe(Code.ResourceExhausted); // per IP
    const b = await watch("198.51.100.2");
    expect(b.first).toBe(Status.SERVING);
    expect((await watch("198.51.100.3")).first).toBe(Code.ResourceExhausted); // per process
    // Check is not bounded by the streams.
    expect((await createClient(Health, createGrpcTransport({ baseUrl: svc.url })).check({})).status).toBe(Status.SERVING);

    a1.close();
    // The server sees the cancellation when the RST_STREAM arrives: polled, bounded.
    let c: Awaited<ReturnType<typeof watch>> | undefined;
    await expect
      .poll(async () => {
        c = await watch("198.51.100.3");
        return c.first;
      })
      .toBe(Status.SERVING);
    for (const s of [a2, b, c!]) s.close();
  });
});
