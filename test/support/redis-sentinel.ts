// A private primary, its replica and one Sentinel watching them (quorum 1, 1 s to declare the
// primary down), on free ports; `killPrimary` makes the Sentinel promote the replica.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, waitForPort } from "./global-setup.js";

const run = promisify(execFile);
const NAME = "signin-primary";

export interface RedisSentinelHandle {
  /** redis+sentinel://127.0.0.1:port/name */
  url: string;
  killPrimary(): void;
  /** The primary's port as the Sentinel reports it now. */
  primaryPort(): Promise<number>;
  stop(): void;
}

export async function startRedisSentinel(): Promise<RedisSentinelHandle> {
  const dir = mkdtempSync(join(tmpdir(), "redis-sentinel-"));
  const [primary, replica, sentinel] = [await freePort(), await freePort(), await freePort()];
  const common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir];
  const children: ChildProcess[] = [];
  const start = (args: string[]) => children.push(spawn("redis-server", args, { stdio: "ignore" }));
  start(["--port", String(primary), ...common]);
  start(["--port", String(replica), "--replicaof", "127.0.0.1", String(primary), ...common]);
  const conf = join(dir, "sentinel.conf"); // Sentinel rewrites its config file: it must be its own
  writeFileSync(
    conf,
    [
      `port ${sentinel}`,
      "bind 127.0.0.1",
      `dir ${dir}`,
      `sentinel monitor ${NAME} 127.0.0.1 ${primary} 1`,
      `sentinel down-after-milliseconds ${NAME} 1000`,
      `sentinel failover-timeout ${NAME} 5000`,
    ].join("\n"),
  );
  const handle: RedisSentinelHandle = {
    url: `redis+sentinel://127.0.0.1:${sentinel}/${NAME}`,
    killPrimary: () => children[0]!.kill("SIGKILL"),
    primaryPort: async () => Number((await run("redis-cli", ["-p", String(sentinel), "sentinel", "get-master-addr-by-name", NAME])).stdout.split("\n")[1]),
    stop() {
      for (const c of children) c.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const p of [primary, replica]) await waitForPort(p);
    start([conf, "--sentinel"]);
    await waitForPort(sentinel);
    // The replica must hold the data before a failover can promote it.
    for (let i = 0; !(await run("redis-cli", ["-p", String(replica), "info", "replication"])).stdout.includes("master_link_status:up"); i++) {
      if (i > 200) throw new Error("the replica did not sync");
      await new Promise((r) => setTimeout(r, 50)); // polling processes we started, bounded
    }
    return handle;
  } catch (err) {
    handle.stop();
    throw err;
  }
}
