// grpc.health.v1.Health: SERVING while Redis and the database answer, for load balancers and
// grpc_health_probe. Watch streams the status, re-checked every few seconds.
import type { ServiceImpl } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../../gen/grpc/health/v1/health_pb.js";
import type { Readiness } from "../readiness.js";

const WATCH_INTERVAL_MS = 5000;

export function healthService(readiness: Readiness, services: string[]): ServiceImpl<typeof Health> {
  const status = async (service: string) => {
    if (service !== "" && !services.includes(service)) return Status.SERVICE_UNKNOWN;
    return (await readiness()).ready ? Status.SERVING : Status.NOT_SERVING;
  };
  return {
    async check(req) {
      const s = await status(req.service);
      if (s === Status.SERVICE_UNKNOWN) throw new ConnectError(`unknown service ${req.service}`, Code.NotFound);
      return { status: s };
    },
    async *watch(req, ctx) {
      let last: Status | undefined;
      while (!ctx.signal.aborted) {
        const s = await status(req.service);
        if (s !== last) yield { status: (last = s) };
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, WATCH_INTERVAL_MS);
          ctx.signal.addEventListener("abort", () => (clearTimeout(timer), resolve(undefined)), { once: true });
        });
      }
    },
  };
}
