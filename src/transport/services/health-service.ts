// grpc.health.v1.Health: SERVING while Redis and the database answer, for load balancers and
// grpc_health_probe. Watch streams the status, re-checked every few seconds. Each Watch holds a
// stream open and probes both stores on every round, so how many may run at once is bounded, per
// process and per client IP; beyond, a new Watch is refused (resource_exhausted) and Check remains.
import { setTimeout as sleep } from "node:timers/promises";
import type { ServiceImpl } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../../gen/grpc/health/v1/health_pb.js";
import type { Readiness } from "../readiness.js";
import { who } from "./deps.js";

export interface WatchLimits {
  /** Watch streams open at once in this process (MAX_HEALTH_WATCHES). */
  maxStreams: number;
  /** Of which from one client IP (MAX_HEALTH_WATCHES_PER_IP). */
  maxStreamsPerIp: number;
  /** Between two checks of a Watch; 5 s unless a test says otherwise. */
  intervalMs?: number;
}

const WATCH_INTERVAL_MS = 5000;

export function healthService(readiness: Readiness, services: string[], limits: WatchLimits): ServiceImpl<typeof Health> {
  const status = async (service: string) => {
    if (service !== "" && !services.includes(service)) return Status.SERVICE_UNKNOWN;
    return (await readiness()).ready ? Status.SERVING : Status.NOT_SERVING;
  };
  const streams = new Slots(limits.maxStreams, limits.maxStreamsPerIp);
  const interval = limits.intervalMs ?? WATCH_INTERVAL_MS;
  return {
    async check(req) {
      const s = await status(req.service);
      if (s === Status.SERVICE_UNKNOWN) throw new ConnectError(`unknown service ${req.service}`, Code.NotFound);
      return { status: s };
    },
    async *watch(req, ctx) {
      const release = streams.take(who(ctx).ip);
      try {
        let last: Status | undefined;
        while (!ctx.signal.aborted) {
          const s = await status(req.service);
          if (s !== last) yield { status: (last = s) };
          // The timer's abort listener goes when the timer does: none is left behind per round.
          await sleep(interval, undefined, { signal: ctx.signal }).catch((err: unknown) => {
            if (!ctx.signal.aborted) throw err;
          });
        }
      } finally {
        release();
      }
    },
  };
}

/** Counts open streams, in all and per IP; `take` refuses beyond either bound. */
class Slots {
  private total = 0;
  private readonly byIp = new Map<string, number>();

  constructor(
    private readonly max: number,
    private readonly maxPerIp: number,
  ) {}

  take(ip: string): () => void {
    const mine = this.byIp.get(ip) ?? 0;
    if (this.total >= this.max) throw new ConnectError(`too many health Watch streams on this instance (${this.max}); use Check, or retry later`, Code.ResourceExhausted);
    if (mine >= this.maxPerIp) throw new ConnectError(`too many health Watch streams from one client (${this.maxPerIp}); use Check, or close one`, Code.ResourceExhausted);
    this.total++;
    this.byIp.set(ip, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.byIp.get(ip) ?? 1) - 1;
      if (left > 0) this.byIp.set(ip, left);
      else this.byIp.delete(ip);
    };
  }
}
