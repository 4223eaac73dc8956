// Readiness: the shared stores answer. /readyz and grpc.health.v1 report it; liveness
// (/healthz) only says the process serves HTTP.
export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, boolean>;
}

export type Readiness = () => Promise<ReadinessReport>;

export function readiness(checks: Record<string, () => Promise<boolean>>): Readiness {
  return async () => {
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((n) => checks[n]!().catch(() => false)));
    const report = Object.fromEntries(names.map((n, i) => [n, results[i]!]));
    return { ready: results.every(Boolean), checks: report };
  };
}
