// A private Redis Cluster for tests: `primaries` redis-server processes in cluster mode, each with
// `replicas` replicas, on free ports, joined by `redis-cli --cluster create`. Killing a primary
// lets its replica take over (cluster-node-timeout is 1 s). Everything is removed by `stop`.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { waitForPort } from "./global-setup.js";

const run = promisify(execFile);

export interface RedisClusterHandle {
  /** redis+cluster://127.0.0.1:p1,127.0.0.1:p2,... */
  url: string;
  ports: number[];
  /** SIGKILLs the node on `port`. */
  kill(port: number): void;
  /** The primaries' ports, as the cluster sees them now. */
  primaries(): Promise<number[]>;
  /** The port of the primary serving `key` now. */
  primaryFor(key: string): Promise<number>;
  /** Polls (bounded) until every live node reports cluster_state:ok and `check` holds. */
  waitHealthy(check?: () => Promise<boolean>): Promise<void>;
  stop(): void;
}

const canBind = (port: number) =>
  new Promise<boolean>((resolve) => {
    const srv = net.createServer().once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });

/** A port whose cluster bus port (+10000) is free too. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    if (taken.has(port) || taken.has(port + 10000) || taken.has(port - 10000)) continue;
    if ((await canBind(port)) && (await canBind(port + 10000))) {
      taken.add(port);
      return port;
    }
  }
}

const cli = (port: number, ...args: string[]) => run("redis-cli", ["-p", String(port), ...args]).then((r) => r.stdout);

async function poll(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100)); // polling processes we started, bounded
  }
  throw new Error(`Redis Cluster: ${what} not reached in ${timeoutMs} ms`);
}

export async function startRedisCluster(primaries = 3, replicas = 1): Promise<RedisClusterHandle> {
  const dir = mkdtempSync(join(tmpdir(), "redis-cluster-"));
  const taken = new Set<number>();
  const ports: number[] = [];
  for (let i = 0; i < primaries * (1 + replicas); i++) ports.push(await clusterPort(taken));
  const children = new Map<number, ChildProcess>();
  for (const port of ports) {
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-config-file", `nodes-${port}.conf`];
    // A replica takes over whatever its data's age (the test kills primaries right after start).
    args.push("--cluster-node-timeout", "1000", "--cluster-replica-validity-factor", "0", "--dir", dir, "--save", "", "--appendonly", "no");
    children.set(port, spawn("redis-server", args, { stdio: "ignore" }));
  }
  const dead = new Set<number>();
  const live = () => ports.filter((p) => !dead.has(p));
  const handle: RedisClusterHandle = {
    url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(",")}`,
    ports,
    kill(port) {
      dead.add(port);
      children.get(port)?.kill("SIGKILL");
    },
    async primaries() {
      const nodes = await cli(live()[0]!, "cluster", "nodes");
      return nodes
        .split("\n")
        .filter((l) => / master /.test(l.replace(/,/g, " ")) && !/fail/.test(l))
        .map((l) => Number(/:(\d+)@/.exec(l)![1]));
    },
    async primaryFor(key) {
      const slot = Number(await cli(live()[0]!, "cluster", "keyslot", key));
      for (const line of (await cli(live()[0]!, "cluster", "nodes")).split("\n")) {
        if (!/ master /.test(line.replace(/,/g, " ")) || /fail/.test(line)) continue;
        for (const range of line.trim().split(" ").slice(8)) {
          const [from, to = from] = range.split("-").map(Number);
          if (slot >= from! && slot <= to!) return Number(/:(\d+)@/.exec(line)![1]);
        }
      }
      throw new Error(`no primary serves slot ${slot}`);
    },
    async waitHealthy(check = async () => true) {
      await poll("cluster_state:ok", async () => {
        for (const p of live()) if (!(await cli(p, "cluster", "info")).includes("cluster_state:ok")) return false;
        return check();
      });
    },
    stop() {
      for (const c of children.values()) c.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const port of ports) await waitForPort(port);
    await run("redis-cli", ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", String(replicas), "--cluster-yes"]);
    // Every node must know the whole slot map, and every replica be in sync, before use.
    const synced = async () => {
      for (const p of ports) {
        const info = await cli(p, "info", "replication");
        if (info.includes("role:slave") && !info.includes("master_link_status:up")) return false;
      }
      return (await handle.primaries()).length === primaries;
    };
    await handle.waitHealthy(synced);
    return handle;
  } catch (err) {
    handle.stop();
    throw err;
  }
}
