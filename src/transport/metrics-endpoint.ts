// GET /metrics (Prometheus) off the public API: on its own listener (METRICS_PORT on METRICS_HOST,
// loopback by default), and on the API port only for a scraper presenting METRICS_TOKEN; anyone
// else gets the API port's plain 404, as for a path that does not exist.
import { createHash, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Registry } from "prom-client";
import type { ConnectionLimits } from "./connection-policy.js";
import { sendJson, type Req, type Res } from "./legacy/http.js";

/** The exposition text, or a rejection while it cannot be had (a cluster worker still starting). */
export type Exposition = () => Promise<string>;

/** Whether `req` presents `Authorization: Bearer <token>` (hashed first, so compared in constant time). */
export function presentsToken(req: Req, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(String(req.headers.authorization ?? ""));
  if (!m) return false;
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(m[1]!), digest(token));
}

/** Answers a scrape with the exposition (503, retryable, while it cannot be had). */
export async function answerScrape(res: Res, exposition: Exposition, head: boolean): Promise<void> {
  const text = await exposition().catch(() => null);
  if (text === null) return sendJson(res, 503, { status: "metrics unavailable, retry" });
  res.writeHead(200, { "content-type": Registry.PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store", "content-length": Buffer.byteLength(text) });
  if (head) res.end();
  else res.end(text);
}

export interface MetricsListenOptions {
  host: string;
  port: number;
  /** When set, the scraper must present it here too. */
  token: string | null;
  connections: Pick<ConnectionLimits, "headersTimeoutMs" | "requestTimeoutMs" | "keepAliveTimeoutMs">;
}

// Scrapers are few; a listener someone exposed by mistake still cannot hold many sockets.
const MAX_METRICS_CONNECTIONS = 32;

/** The metrics listener: GET /metrics only. Resolves with its URL once listening. */
export async function listenMetrics(exposition: Exposition, opts: MetricsListenOptions): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?", 1)[0];
    if (path !== "/metrics") return sendJson(res, 404, { code: "not_found", message: "Not found; metrics are at /metrics" });
    if (req.method !== "GET" && req.method !== "HEAD") return sendJson(res, 405, { code: "method_not_allowed", message: "Use GET" }, { allow: "GET, HEAD" });
    if (opts.token && !presentsToken(req, opts.token)) {
      return sendJson(res, 401, { code: "unauthenticated", message: "Authorization: Bearer <METRICS_TOKEN> required" }, { "www-authenticate": 'Bearer realm="metrics"' });
    }
    void answerScrape(res, exposition, req.method === "HEAD");
  });
  server.headersTimeout = opts.connections.headersTimeoutMs;
  server.requestTimeout = opts.connections.requestTimeoutMs;
  server.keepAliveTimeout = opts.connections.keepAliveTimeoutMs;
  server.maxConnections = MAX_METRICS_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => reject(new Error(listenFailure(err, opts), { cause: err })));
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function listenFailure(err: NodeJS.ErrnoException, { host, port }: MetricsListenOptions): string {
  if (err.code === "EADDRINUSE") return `METRICS_PORT: ${port} is already in use on ${host}; choose another METRICS_PORT (0 = any free port)`;
  if (err.code === "EACCES") return `METRICS_PORT: this user may not listen on port ${port} (permission denied); choose a METRICS_PORT above 1023`;
  if (err.code === "EADDRNOTAVAIL") return `METRICS_HOST: ${host} is not an address of this machine; use 127.0.0.1 (the default) or another of its addresses`;
  return `cannot listen on ${host}:${port} (METRICS_HOST, METRICS_PORT): ${err.message}`;
}
