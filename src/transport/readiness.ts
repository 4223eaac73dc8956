// Readiness: the shared stores answer. /readyz and grpc.health.v1 report it; liveness
// (/healthz) only says the process serves HTTP.
export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, boolean>;
}

export type Readiness = () => Promise<ReadinessReport>;

/** Probes may come often (load balancers, health checks): a report is reused for `cacheMs`. */
export function readiness(checks: Record<string, () => Promise<boolean>>, cacheMs = 1000): Readiness {
  let last: { at: number; report: Promise<ReadinessReport> } | undefined;
  const run = async (): Promise<ReadinessReport> => {
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((n) => checks[n]!().catch(() => false)));
    return { ready: results.every(Boolean), checks: Object.fromEntries(names.map((n, i) => [n, results[i]!])) };
  };
  return () => {
    if (!last || Date.now() - last.at > cacheMs) last = { at: Date.now(), report: run() };
    return last.report;
  };
}
