// CLUSTER_WORKERS > 1: this process only supervises; N workers (node:cluster) share its port,
// each a whole service on the shared PostgreSQL and Redis. The first worker starts alone (it
// migrates, creates the signing keys, applies the bootstrap file), then the others. A worker that
// dies is replaced, after a delay that grows while workers keep dying young (a crash loop must not
// spin the CPU). SIGTERM is passed to every worker, which drains its requests and exits.
import { randomUUID } from "node:crypto";
import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry, type Registry } from "prom-client";
import type { Logger } from "./core/logger.js";
import { listenMetrics, type MetricsListenOptions } from "./transport/metrics-endpoint.js";

/** What a worker tells the primary once it listens. */
export interface ListeningMessage {
  type: "listening";
  url: string;
}

/** A worker asks the primary for every worker's metrics (any worker may receive the scrape). */
interface MetricsRequest {
  type: "metrics?";
  id: string;
}
interface MetricsResponse {
  type: "metrics";
  id: string;
  text?: string;
  error?: string;
}

const YOUNG_MS = 10_000;
const METRICS_TIMEOUT_MS = 5_000;
const MAX_RESTART_DELAY_MS = 5_000;

/**
 * `metrics`: METRICS_PORT's listener, served here for all workers (it opens before any worker starts,
 * so a port in use stops the start-up at once).
 */
export async function superviseWorkers(
  count: number,
  log: Logger,
  metrics: MetricsListenOptions | null = null,
): Promise<{ url: string; metricsUrl?: string; close(): Promise<number> }> {
  // The kernel hands connections to the workers (they accept on the shared socket). Under Node's
  // default round-robin the primary passes each accepted connection to a worker, and one passed
  // to a worker at the instant it dies is never answered (measured: 1 of 4 requests hung after a
  // SIGKILL); with the kernel's queue, connections not yet accepted wait for the living workers.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let stopping = false;
  let youngDeaths = 0;
  const started = new Map<number, number>(); // worker id -> start time
  const serving = new Set<number>(); // workers that reported listening

  const fork = () =>
    new Promise<string>((resolve, reject) => {
      const worker = cluster.fork();
      started.set(worker.id, Date.now());
      const onMessage = (m: ListeningMessage) => {
        if (m?.type !== "listening") return;
        worker.off("message", onMessage);
        serving.add(worker.id);
        resolve(m.url);
      };
      worker.on("message", onMessage);
      worker.once("exit", (code) => !stopping && reject(new Error(`worker exited with code ${code} before listening`)));
    });

  // prom-client's aggregator asks every worker for its registry over IPC and sums what they answer.
  const aggregator = new AggregatorRegistry();
  cluster.on("message", (worker: Worker, m: MetricsRequest) => {
    if (m?.type !== "metrics?") return;
    const reply = (r: Omit<MetricsResponse, "type" | "id">) => worker.isConnected() && worker.send({ type: "metrics", id: m.id, ...r } satisfies MetricsResponse);
    aggregator.clusterMetrics().then((text) => reply({ text }), (err: Error) => reply({ error: err.message }));
  });
  const metricsServer = metrics ? await listenMetrics(() => aggregator.clusterMetrics(), metrics) : null;

  cluster.on("exit", (worker: Worker, code, signal) => {
    const age = Date.now() - (started.get(worker.id) ?? 0);
    started.delete(worker.id);
    serving.delete(worker.id);
    if (stopping) return;
    youngDeaths = age < YOUNG_MS ? youngDeaths + 1 : 0;
    const delay = Math.min(MAX_RESTART_DELAY_MS, youngDeaths > 1 ? 250 * 2 ** (youngDeaths - 2) : 0);
    log.error({ workerPid: worker.process.pid, code, signal, restartInMs: delay }, "worker died; starting a new one");
    setTimeout(() => void fork().catch((err) => log.error({ err }, "replacement worker failed to start")), delay).unref();
  });

  const url = await fork();
  await Promise.all(Array.from({ length: count - 1 }, fork));
  log.info({ workers: count }, "workers listening");

  return {
    url,
    metricsUrl: metricsServer?.url,
    /**
     * SIGTERM to every worker; resolves with 0 when every serving worker drained and exited
     * cleanly, else 1. (A worker still starting has nothing to drain; it may die of the signal.)
     */
    close: async () => {
      stopping = true;
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => Boolean(w));
      const clean = await Promise.all(
        workers.map((w) => {
          const wasServing = serving.has(w.id);
          return new Promise<boolean>((resolve) => (w.once("exit", (code) => resolve(code === 0 || !wasServing)), w.process.kill("SIGTERM")));
        }),
      );
      await metricsServer?.close();
      return clean.every(Boolean) ? 0 : 1;
    },
  };
}

/** In a worker: offers `registry` to the primary's aggregation and returns how to read every worker's metrics. */
export function clusterMetrics(registry: Registry): () => Promise<string> {
  new AggregatorRegistry(); // constructing one is what makes a worker answer the primary's requests
  AggregatorRegistry.setRegistries(registry);
  return () =>
    new Promise((resolve, reject) => {
      const id = randomUUID();
      const timer = setTimeout(() => (process.off("message", onMessage), reject(new Error("no metrics from the primary"))), METRICS_TIMEOUT_MS);
      const onMessage = (m: MetricsResponse) => {
        if (m?.type !== "metrics" || m.id !== id) return;
        clearTimeout(timer);
        process.off("message", onMessage);
        if (m.text !== undefined) resolve(m.text);
        else reject(new Error(m.error ?? "metrics aggregation failed"));
      };
      process.on("message", onMessage);
      process.send!({ type: "metrics?", id } satisfies MetricsRequest);
    });
}

/** In a worker: tells the primary the service is up. */
export function reportListening(url: string): void {
  process.send?.({ type: "listening", url } satisfies ListeningMessage);
}
