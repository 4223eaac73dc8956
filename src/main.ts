// Entry point: answer --help/--version (refuse any other argument), read the config, start the
// service (or, with CLUSTER_WORKERS > 1, the workers that run it), stop cleanly on SIGTERM/SIGINT.
import cluster from "node:cluster";
import { ConfigError, ENV_VARS, loadConfig } from "./config.js";
import { VERSION } from "./version.js";

// Arguments are settled before the service and its dependencies are even loaded: --help answers at
// once, and a mistyped argument can never leave a service holding the port.
const USAGE = "Usage: npm start [-- --help | --version] (configured by environment variables only)";
const args = process.argv.slice(2);
const unknown = args.find((a) => !["-h", "--help", "-v", "--version"].includes(a));
if (unknown !== undefined) {
  console.error(`Unknown argument: ${unknown}. ${USAGE}`);
  process.exit(2);
}
if (args.includes("-h") || args.includes("--help")) {
  console.log(`Sign-in service. ${USAGE}\n\nConfiguration (environment variables):\n`);
  for (const [name, fallback, meaning] of ENV_VARS) console.log(`  ${name.padEnd(20)} ${meaning}${fallback ? ` (default: ${fallback})` : ""}`);
  process.exit(0);
}
if (args.length > 0) {
  console.log(VERSION);
  process.exit(0);
}
const [{ pino }, { reportListening, superviseWorkers }, { BootstrapError }, { startService }] = await Promise.all([
  import("pino"),
  import("./cluster.js"),
  import("./core/bootstrap.js"),
  import("./service.js"),
]);

// Signals are handled from the first moment: one that arrives while starting stops the service
// as soon as it is up (a supervisor may stop a worker that is still starting).
let stopRequested: string | null = null;
let stop = async (signal: string) => void (stopRequested ??= signal);
process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));
// A worker whose primary is gone (killed, crashed) drains and exits instead of serving on as an orphan.
if (cluster.isWorker) process.once("disconnect", () => void stop("primary gone"));

try {
  const config = loadConfig();
  const supervising = config.clusterWorkers > 1 && cluster.isPrimary;
  const metrics = config.metrics.port === null ? null : { ...config.metrics, port: config.metrics.port, connections: config.connections };
  const running: { url: string; metricsUrl?: string; close(): Promise<number> } = supervising
    ? await superviseWorkers(config.clusterWorkers, pino({ level: config.logLevel }), metrics)
    : await startService(config).then((s) => ({ url: s.url, metricsUrl: s.metricsUrl, close: () => s.close().then(() => 0) }));
  if (cluster.isWorker) reportListening(running.url);
  else {
    const extras = [supervising && `${config.clusterWorkers} workers`, running.metricsUrl && `metrics on ${running.metricsUrl}`].filter(Boolean);
    console.log(`Sign-in service listening on ${running.url}${extras.length ? ` (${extras.join(", ")})` : ""}`);
  }
  let stopping = false; // Ctrl-C reaches the workers both directly and through the primary
  stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    if (!cluster.isWorker) console.log(`${signal}: shutting down`);
    process.exit(await running.close());
  };
  if (stopRequested) await stop(stopRequested);
} catch (err) {
  if (err instanceof ConfigError || err instanceof BootstrapError) console.error(`Configuration error: ${err.message}`);
  else console.error(`Start-up failed: ${(err as Error).message}`);
  process.exit(1);
}
