// A client's deadline header bounded before connect-es turns it into a timer: Node cannot arm a timer
// past 2^31-1 ms and warns (TimeoutOverflowWarning) once per request that asks, e.g. grpc-timeout 99999999H.
import type { IncomingHttpHeaders } from "node:http";

/** The longest deadline a client may ask for (Node's timer limit, ~24.8 days); longer ones are clamped to it. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

const GRPC_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** Rewrites `grpc-timeout` (gRPC, gRPC-Web) and `connect-timeout-ms` (Connect) in place when over the limit. */
export function clampTimeoutHeaders(headers: IncomingHttpHeaders): void {
  const grpc = headers["grpc-timeout"];
  const m = typeof grpc === "string" ? /^(\d{1,8})([HMSmun])$/.exec(grpc) : null;
  if (m && Number(m[1]) * GRPC_UNIT_MS[m[2]!]! > MAX_TIMEOUT_MS) headers["grpc-timeout"] = `${Math.floor(MAX_TIMEOUT_MS / 1000)}S`;
  const connect = headers["connect-timeout-ms"];
  if (typeof connect === "string" && /^\d{1,10}$/.test(connect) && Number(connect) > MAX_TIMEOUT_MS) headers["connect-timeout-ms"] = String(MAX_TIMEOUT_MS);
}
