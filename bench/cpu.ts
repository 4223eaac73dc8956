// Where the CPU time of a scenario goes, per request: the server's main thread (JavaScript,
// HTTP, Redis and database clients), its other threads (argon2, GC, PGlite helpers), the Redis
// server, the PostgreSQL server's processes (with DATABASE_URL) and the load generator. Read from
// /proc (Linux), in clock ticks.
import { readdirSync, readFileSync } from "node:fs";

const TICK_MS = 10; // USER_HZ = 100 on Linux

interface Sample {
  main: number;
  mainSystem: number;
  threads: number;
  redis: number;
  /** Ticks of each PostgreSQL server process, by pid (backends come and go). */
  postgres: Map<string, number>;
  self: NodeJS.CpuUsage;
}

function ticks(stat: string): number {
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]); // utime + stime
}

function systemTicks(stat: string): number {
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[12]); // stime: in the kernel
}

const read = (path: string) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null; // the process has just exited
  }
};

/** Every process named "postgres" on this machine: the local server the run talks to. */
function postgresTicks(): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = read(`/proc/${pid}/stat`);
    if (stat?.includes("(postgres)")) out.set(pid, ticks(stat));
  }
  return out;
}

function sample(serverPid: number, redisPid: number | null, postgres: boolean): Sample {
  let main = 0;
  let mainSystem = 0;
  let threads = 0;
  for (const tid of readdirSync(`/proc/${serverPid}/task`)) {
    const stat = read(`/proc/${serverPid}/task/${tid}/stat`);
    if (stat === null) continue;
    if (tid === String(serverPid)) [main, mainSystem] = [ticks(stat), systemTicks(stat)];
    else threads += ticks(stat);
  }
  const redisStat = redisPid ? read(`/proc/${redisPid}/stat`) : null;
  return { main, mainSystem, threads, redis: redisStat ? ticks(redisStat) : 0, postgres: postgres ? postgresTicks() : new Map(), self: process.cpuUsage() };
}

export interface CpuPerRequest {
  serverMainMs: number;
  /** Of serverMainMs, the time in the kernel (system calls: sockets, waking other threads). */
  serverMainSystemMs: number;
  serverThreadsMs: number;
  redisMs: number | null;
  /** The PostgreSQL server's processes; null on PGlite (inside the server process). */
  postgresMs: number | null;
  loadGeneratorMs: number;
  /** Server (all threads) + Redis + PostgreSQL, per request. */
  serviceMs: number;
}

export interface Measured {
  serverPid: number;
  /** The Redis server's pid when it runs on this machine, else null (its CPU is then not counted). */
  redisPid: number | null;
  /** Count the local PostgreSQL server's processes (the run uses DATABASE_URL). */
  postgres: boolean;
}

/** Runs `scenario` and divides each process's CPU time over it by the requests it made. */
export async function measureCpu<T extends { requests: number }>(m: Measured, scenario: () => Promise<T>): Promise<[T, CpuPerRequest]> {
  const a = sample(m.serverPid, m.redisPid, m.postgres);
  const result = await scenario();
  const b = sample(m.serverPid, m.redisPid, m.postgres);
  const n = Math.max(1, result.requests);
  const per = (x: number) => Math.round((x / n) * 1000) / 1000;
  const self = process.cpuUsage(a.self);
  let pgTicks = 0;
  for (const [pid, t] of b.postgres) pgTicks += t - (a.postgres.get(pid) ?? 0);
  const mainMs = (b.main - a.main) * TICK_MS;
  const threadsMs = (b.threads - a.threads) * TICK_MS;
  const redisMs = (b.redis - a.redis) * TICK_MS;
  const pgMs = pgTicks * TICK_MS;
  return [
    result,
    {
      serverMainMs: per(mainMs),
      serverMainSystemMs: per((b.mainSystem - a.mainSystem) * TICK_MS),
      serverThreadsMs: per(threadsMs),
      redisMs: m.redisPid ? per(redisMs) : null,
      postgresMs: m.postgres ? per(pgMs) : null,
      loadGeneratorMs: per((self.user + self.system) / 1000),
      serviceMs: per(mainMs + threadsMs + redisMs + pgMs),
    },
  ];
}
