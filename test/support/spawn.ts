// Runs the service as a separate process (as in production) and waits for the URL it prints.
import { spawn, type ChildProcess } from "node:child_process";

export interface SpawnedService {
  url: string;
  /** The METRICS_PORT listener's URL, when the service printed one. */
  metricsUrl?: string;
  child: ChildProcess;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<number | null>;
}

/** `entry`: the sources through tsx by default, or e.g. ["dist/src/main.js"] for the build. */
export async function spawnService(env: NodeJS.ProcessEnv, entry = ["--import", "tsx", "src/main.ts"]): Promise<SpawnedService> {
  const child = spawn(process.execPath, entry, { env, stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`service exited with ${code}: ${out}`)));
  });
  const metricsUrl = /metrics on (http\S+?)[,)]/.exec(out)?.[1];
  return { url, metricsUrl, child, exited, stop: () => (child.kill("SIGTERM"), exited) };
}
