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
          return { ...req, body: JSON.stringify(r.body), headers: { "content-type": "application/json", "x-forwarded-for": r.ip, ...r.headers } };
        },
      },
    ],
    setupClient: (client: any) => {
      client.on("body", (buf: Buffer) => {
        const text = buf.toString();
        const kind = text.startsWith('{"ok":true') || text.startsWith('{"jwt"') ? "ok" : (/"code":(\d+)/.exec(text)?.[1] ?? "other");
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
