// Prometheus metrics (prom-client), served at GET /metrics. Sign-in outcomes and limit
// rejections are counted from the audit events, so the two never disagree.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Audit } from "../core/audit.js";
import type { HashPool } from "../core/password/hash-pool.js";

export class Metrics {
  readonly registry = new Registry();
  readonly signIns = new Counter({
    name: "signin_decisions_total",
    help: "Sign-in decisions by surface, event and reason (the audit events).",
    labelNames: ["surface", "event", "reason"] as const,
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: "signin_rate_limited_total",
    help: "Attempts refused by a limit, by limiter.",
    labelNames: ["limiter"] as const,
    registers: [this.registry],
  });
  readonly hashSeconds = new Histogram({
    name: "signin_password_hash_seconds",
    help: "Duration of argon2 operations (hash or verify), queueing excluded.",
    buckets: [0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64],
    registers: [this.registry],
  });
  readonly storeErrors = new Counter({
    name: "signin_store_errors_total",
    help: "Errors talking to Redis or PostgreSQL.",
    labelNames: ["store"] as const,
    registers: [this.registry],
  });
  readonly requestSeconds = new Histogram({
    name: "signin_request_duration_seconds",
    help: "Latency of RPCs and legacy REST calls, by surface and method.",
    labelNames: ["surface", "method", "outcome"] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  constructor(pool: HashPool) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: "signin_password_hash_queue_depth",
      help: "argon2 operations waiting for a slot.",
      registers: [this.registry],
      collect() {
        this.set(pool.queued);
      },
    });
  }

  /** The text /metrics answers: this process's registry, or (in a cluster worker) every worker's, aggregated. */
  exposition: () => Promise<string> = () => this.registry.metrics();

  /** An Audit that also counts what it records. */
  counting(audit: Audit): Audit {
    return {
      record: (ctx, e) => {
        this.signIns.inc({ surface: ctx.surface, event: e.event, reason: e.reason ?? "" });
        if (e.event === "sign_in.blocked") this.rateLimited.inc({ limiter: e.reason ?? "" });
        audit.record(ctx, e);
      },
    };
  }

  /** Times one request; call the returned function with its outcome when it ends. */
  time(surface: string, method: string): (outcome: string) => void {
    const end = this.requestSeconds.startTimer({ surface, method });
    return (outcome) => end({ outcome });
  }
}
