// Readiness: the shared stores answer. /readyz and grpc.health.v1 report it; liveness
// (/healthz) only says the process serves HTTP.

/** A probe of a store, or "memory" for a store kept in this process (nothing to probe, never down). */
export type Check = (() => Promise<boolean>) | "memory";

export interface ReadinessReport {
  ready: boolean;
  /** Each probe's answer, or "memory": reporting `true` would claim a Redis that is not there. */
  checks: Record<string, boolean | "memory">;
}

export type Readiness = () => Promise<ReadinessReport>;

/** Probes may come often (load balancers, health checks): a report is reused for `cacheMs`. */
export function readiness(checks: Record<string, Check>, cacheMs = 1000): Readiness {
  let last: { at: number; report: Promise<ReadinessReport> } | undefined;
  const run = async (): Promise<ReadinessReport> => {
    const names = Object.keys(checks);
    const results = await Promise.all(
      names.map((n) => {
        const check = checks[n]!;
        return check === "memory" ? ("memory" as const) : check().catch(() => false);
      }),
    );
    return { ready: results.every((r) => r !== false), checks: Object.fromEntries(names.map((n, i) => [n, results[i]!])) };
  };
  return () => {
    if (!last || Date.now() - last.at > cacheMs) last = { at: Date.now(), report: run() };
    return last.report;
  };
}
