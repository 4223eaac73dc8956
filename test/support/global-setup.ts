// Gives every test a real Redis: REDIS_URL when set, else a private redis-server on a
// free port, stopped after the run. Keys are namespaced per test, never shared state.
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import type { TestProject } from "vitest/node";

let stopPrivate: (() => void) | undefined;

export async function setup(project: TestProject) {
  let url = process.env.REDIS_URL;
  if (!url) ({ url, stop: stopPrivate } = await startRedisServer());
  project.provide("redisUrl", url);
}

export async function teardown() {
  stopPrivate?.();
}

/** A private, non-persistent redis-server on a free port. */
export async function startRedisServer(): Promise<{ url: string; stop: () => void }> {
  const port = await freePort();
  const child: ChildProcess = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  child.once("error", (err) => console.error(`cannot start redis-server: ${err.message}`));
  await waitForPort(port);
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill() };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => (s.end(), resolve(true)));
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50)); // polling a child process start, not waiting for time to pass
  }
  throw new Error(`redis-server did not start on port ${port}`);
}

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
