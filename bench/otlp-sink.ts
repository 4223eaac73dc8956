// BENCH_TRACING=1: the service runs with tracing on, every request sampled (always_on), exporting by
// OTLP/HTTP to this in-process sink, which only counts what it receives (in the load generator's process,
// so the service's CPU figures hold only what tracing costs the service itself). Compare the run's figures
// with a run without BENCH_TRACING, where tracing is off (OTEL_SDK_DISABLED, whatever the shell sets).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface TracingSink {
  env: Record<string, string>;
  counts(): { exportRequests: number; spans: number; bytes: number };
  stop(): Promise<void>;
}

export async function tracingSink(): Promise<TracingSink> {
  let exportRequests = 0;
  let spans = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      exportRequests++;
      bytes += body.length;
      spans += body.split('"spanId"').length - 1;
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_TRACES_SAMPLER: "always_on", OTEL_SDK_DISABLED: "false" },
    counts: () => ({ exportRequests, spans, bytes }),
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
