// Load generation with autocannon: a request body and client IP per request, and the
// answers counted by what they were (success, refused by a limit, wrong password...).
import autocannon from "autocannon";

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  /** Answers by kind: "ok", or the error code. */
  kinds: Record<string, number>;
}

export interface LoadSpec {
  url: string;
  path: string;
  connections: number;
  seconds: number;
  overallRate?: number;
  /** Body and forwarded-for address of the i-th request. */
  request: (i: number) => { body: unknown; ip: string; headers?: Record<string, string> };
  /** Extra headers on every request (e.g. the Connect protocol's). */
  headers?: Record<string, string>;
}

export async function load(spec: LoadSpec): Promise<LoadResult> {
  const kinds: Record<string, number> = {};
  let i = 0;
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.seconds,
    overallRate: spec.overallRate,
    requests: [
      {
        method: "POST",
        path: spec.path,
        setupRequest: (req: any) => {
          const r = spec.request(i++);
          return { ...req, body: JSON.stringify(r.body), headers: { "content-type": "application/json", "x-forwarded-for": r.ip, ...spec.headers, ...r.headers } };
        },
      },
    ],
    setupClient: (client: any) => {
      client.on("body", (buf: Buffer) => {
        const text = buf.toString();
        const kind = /^\{"(ok":true|jwt|user|token|status)/.test(text) ? "ok" : (/"code":"?(\w+)/.exec(text)?.[1] ?? "other");
        kinds[kind] = (kinds[kind] ?? 0) + 1;
      });
    },
  } as any);
  return {
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    kinds,
  };
}

export const ipOf = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

/**
 * Load from `concurrency` loops calling `request` for `seconds` (for protocols autocannon does not
 * speak, such as gRPC over HTTP/2, and multi-step flows). `request` returns the answer's kind.
 */
export async function loop(concurrency: number, seconds: number, request: (i: number) => Promise<string>): Promise<LoadResult> {
  const latencies: number[] = [];
  const kinds: Record<string, number> = {};
  const end = performance.now() + seconds * 1000;
  let i = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        const kind = await request(i++).catch((err: Error) => `error:${err.message.slice(0, 40)}`);
        latencies.push(performance.now() - t);
        kinds[kind] = (kinds[kind] ?? 0) + 1;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
  return { requests: latencies.length, rps: latencies.length / seconds, p50: at(0.5), p99: at(0.99), kinds };
}
