// Where the CPU time of a scenario goes, per request: the server's main thread (JavaScript,
// HTTP, Redis and database clients), its other threads (argon2, GC, PGlite helpers), the Redis
// server and the load generator. Read from /proc (Linux), in clock ticks.
import { readdirSync, readFileSync } from "node:fs";

const TICK_MS = 10; // USER_HZ = 100 on Linux

interface Sample {
  main: number;
  threads: number;
  redis: number;
  self: NodeJS.CpuUsage;
}

function ticks(stat: string): number {
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]); // utime + stime
}

function sample(serverPid: number, redisPid: number | null): Sample {
  let main = 0;
  let threads = 0;
  for (const tid of readdirSync(`/proc/${serverPid}/task`)) {
    const t = ticks(readFileSync(`/proc/${serverPid}/task/${tid}/stat`, "utf8"));
    if (tid === String(serverPid)) main = t;
    else threads += t;
  }
  const redis = redisPid ? ticks(readFileSync(`/proc/${redisPid}/stat`, "utf8")) : 0;
  return { main, threads, redis, self: process.cpuUsage() };
}

export interface CpuPerRequest {
  serverMainMs: number;
  serverThreadsMs: number;
  redisMs: number | null;
  loadGeneratorMs: number;
}

/** Runs `scenario` and divides each process's CPU time over it by the requests it made. */
export async function measureCpu<T extends { requests: number }>(serverPid: number, redisPid: number | null, scenario: () => Promise<T>): Promise<[T, CpuPerRequest]> {
  const a = sample(serverPid, redisPid);
  const result = await scenario();
  const b = sample(serverPid, redisPid);
  const per = (x: number) => Math.round((x / Math.max(1, result.requests)) * 1000) / 1000;
  const self = process.cpuUsage(a.self);
  return [
    result,
    {
      serverMainMs: per((b.main - a.main) * TICK_MS),
      serverThreadsMs: per((b.threads - a.threads) * TICK_MS),
      redisMs: redisPid ? per((b.redis - a.redis) * TICK_MS) : null,
      loadGeneratorMs: per((self.user + self.system) / 1000),
    },
  ];
}
