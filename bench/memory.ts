// `npm run bench:memory`: the service's resident memory (issue 18) on its embedded defaults (PGlite +
// the in-process store) started on a fresh data folder, on the same folder again (warm), on memory://,
// and, with DATABASE_URL, on PostgreSQL + Redis. For each: start-up to the first answer, RSS when idle,
// the peak (VmHWM, since the process started) after 512 concurrent sign-ins, then the service's CPU per
// sign-in over a fixed run (two at a time, after the peak is read). Prints a JSON report.
// The service is launched as `npm start` launches it: the package.json "start" script's variables,
// node options and entry file (MEMORY_START, in the same form, to compare another launch line, e.g.
// MEMORY_START="node dist/src/main.js" for none of the settings).
//   MEMORY_RUNS (2): runs of each scenario; MEMORY_SIGNINS (512); MEMORY_CPU_SIGNINS (256);
//   MEMORY_SCENARIOS (fresh,warm,memory,postgres); DATABASE_URL, REDIS_URL.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { hash } from "@node-rs/argon2";
import { openDatabase } from "../src/stores/postgres/database.js";
import { spawnService, type SpawnedService } from "../test/support/spawn.js";
import { launchLine, npmStartLine } from "./service.js";

const RUNS = Number(process.env.MEMORY_RUNS ?? 2);
const START = process.env.MEMORY_START ?? npmStartLine();
const LAUNCH = launchLine(START);
const SIGNINS = Number(process.env.MEMORY_SIGNINS ?? 512);
const CPU_SIGNINS = Number(process.env.MEMORY_CPU_SIGNINS ?? 256);
const SCENARIOS = (process.env.MEMORY_SCENARIOS ?? "fresh,warm,memory,postgres").split(",");
/** How long a started service is left alone before its idle RSS is read. */
const IDLE_MS = 3000;
const PASSWORD = "correct horse battery staple";
const ADMIN_TOKEN = randomBytes(24).toString("hex");

const progress = (msg: string) => process.stderr.write(`[memory] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** User + system CPU of a process (all its threads) so far, ms. */
function cpuMs(pid: number): number {
  // After the ")" that ends the command name: state is field 3, utime and stime fields 14 and 15.
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
}
const TICKS_PER_S = 100; // USER_HZ, 100 on Linux

/** VmRSS (now) and VmHWM (highest so far) of a process, MiB. */
function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { rss: Math.round(kib("VmRSS") / 1024), hwm: Math.round(kib("VmHWM") / 1024) };
}

interface Measure {
  /** Spawn to the first /healthz answer. */
  startupMs: number;
  idleRssMiB: number;
  /** VmHWM before any sign-in: start-up's own peak. */
  startupPeakMiB: number;
  peakMiB: number;
  rssAfterMiB: number;
  signIns: Record<string, number>;
  /** The service's CPU (all threads) per sign-in over CPU_SIGNINS sign-ins two at a time, ms. */
  cpuMsPerSignIn: number;
}

async function measure(env: Record<string, string>, passwordHash: string): Promise<Measure> {
  const t0 = performance.now();
  // The embedded defaults: no DATABASE_URL, no REDIS_URL unless the scenario sets them.
  const { DATABASE_URL: _db, REDIS_URL: _redis, ...inherited } = process.env;
  const svc = await spawnService({ ...inherited, ...LAUNCH.env, ...env, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", ADMIN_TOKEN, TRUSTED_PROXIES: "127.0.0.1/32" }, LAUNCH.args);
  try {
    const res = await fetch(`${svc.url}/healthz`);
    await res.text();
    const startupMs = Math.round(performance.now() - t0);
    await sleep(IDLE_MS);
    const idle = memory(svc.child.pid!);
    await importAccounts(svc, passwordHash);
    const signIns = await concurrentSignIns(svc);
    const after = memory(svc.child.pid!);
    const cpuMsPerSignIn = await cpuPerSignIn(svc);
    return { startupMs, idleRssMiB: idle.rss, startupPeakMiB: idle.hwm, peakMiB: after.hwm, rssAfterMiB: after.rss, signIns, cpuMsPerSignIn };
  } finally {
    await svc.stop();
  }
}

/** mem0..mem{SIGNINS-1}, all with one argon2id hash made here (the service hashes nothing for them). */
async function importAccounts(svc: SpawnedService, passwordHash: string) {
  // In batches that fit MAX_BODY_BYTES.
  for (let from = 0; from < SIGNINS; from += 128) {
    const records = Array.from({ length: Math.min(128, SIGNINS - from) }, (_, k) => ({ line: from + k + 1, username: `mem${from + k}`, passwordHash }));
    const res = await fetch(`${svc.url}/signin.admin.v1.AdminService/ImportAccounts`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ records }),
    });
    const body = (await res.json()) as { results?: Array<{ outcome: string; reason?: string }> };
    const failed = body.results?.find((r) => r.outcome === "failed");
    if (!res.ok || failed) throw new Error(`import failed: ${res.status} ${JSON.stringify(failed ?? body)}`);
  }
}

/** SIGNINS clients at once, one account and one client address each; a busy answer is retried. */
async function concurrentSignIns(svc: SpawnedService): Promise<Record<string, number>> {
  const kinds: Record<string, number> = {};
  await Promise.all(
    Array.from({ length: SIGNINS }, async (_, i) => {
      for (let attempt = 0; attempt < 200; attempt++) {
        const res = await fetch(`${svc.url}/api/session.setCookie`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-forwarded-for": `10.77.${i >> 8}.${i & 255}` },
          body: JSON.stringify({ user: `mem${i}`, password: PASSWORD }),
        });
        const text = await res.text();
        const kind = /^\{"ok":true/.test(text) ? "ok" : (/"code":"?(\w+)/.exec(text)?.[1] ?? `http${res.status}`);
        kinds[kind] = (kinds[kind] ?? 0) + 1;
        if (kind !== "10503") return; // anything but busy ends this client
        await sleep(50 + Math.random() * 200);
      }
    }),
  );
  return kinds;
}

/** CPU_SIGNINS sign-ins (the accounts again, from other addresses), two at a time: the service's CPU per sign-in. */
async function cpuPerSignIn(svc: SpawnedService): Promise<number> {
  const pid = svc.child.pid!;
  let next = 0;
  const before = cpuMs(pid);
  await Promise.all(
    [0, 1].map(async () => {
      while (next < CPU_SIGNINS) {
        const i = next++;
        const res = await fetch(`${svc.url}/api/session.setCookie`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-forwarded-for": `10.78.${i >> 8}.${i & 255}` },
          body: JSON.stringify({ user: `mem${i % SIGNINS}`, password: PASSWORD }),
        });
        const text = await res.text();
        if (!/^\{"ok":true/.test(text)) throw new Error(`CPU run: sign-in ${i} answered ${res.status} ${text.slice(0, 200)}`);
      }
    }),
  );
  return Math.round(((cpuMs(pid) - before) / CPU_SIGNINS) * 100) / 100;
}

async function main() {
  const passwordHash = await hash(PASSWORD, { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 } as never);
  const report: Record<string, unknown> = {
    date: new Date().toISOString(),
    node: process.version,
    pglite: JSON.parse(readFileSync("node_modules/@electric-sql/pglite/package.json", "utf8")).version,
    cpus: os.availableParallelism(),
    start: START,
    signIns: SIGNINS,
    cpuSignIns: CPU_SIGNINS,
    idleAfterMs: IDLE_MS,
  };
  const runs: Record<string, Measure[]> = {};
  const record = (name: string, m: Measure) => {
    (runs[name] ??= []).push(m);
    progress(`${name}: ${JSON.stringify(m)}`);
  };
  for (let run = 0; run < RUNS; run++) {
    if (SCENARIOS.includes("fresh") || SCENARIOS.includes("warm")) {
      const dir = mkdtempSync(join(tmpdir(), "signin-memory-"));
      try {
        const fresh = await measure({ DATA_DIR: dir }, passwordHash);
        if (SCENARIOS.includes("fresh")) record("fresh", fresh);
        if (SCENARIOS.includes("warm")) record("warm", await measure({ DATA_DIR: dir }, passwordHash));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    if (SCENARIOS.includes("memory")) record("memory", await measure({ DATA_DIR: "memory://" }, passwordHash));
    if (SCENARIOS.includes("postgres") && process.env.DATABASE_URL) {
      const schema = `memory_${randomBytes(4).toString("hex")}`;
      const env = { DATABASE_URL: process.env.DATABASE_URL, DATABASE_SCHEMA: schema, REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379", REDIS_KEY_PREFIX: `${schema}:` };
      try {
        record("postgres+redis", await measure(env, passwordHash));
      } finally {
        const db = await openDatabase({ url: env.DATABASE_URL, dataDir: "", schema });
        await db.query(`DROP SCHEMA ${schema} CASCADE`).finally(() => db.close());
      }
    }
  }
  const range = (xs: number[]) => (Math.min(...xs) === Math.max(...xs) ? `${xs[0]}` : `${Math.min(...xs)}-${Math.max(...xs)}`);
  report.summary = Object.fromEntries(
    Object.entries(runs).map(([name, ms]) => [
      name,
      { startupMs: range(ms.map((m) => m.startupMs)), idleMiB: range(ms.map((m) => m.idleRssMiB)), startupPeakMiB: range(ms.map((m) => m.startupPeakMiB)), peakMiB: range(ms.map((m) => m.peakMiB)), cpuMsPerSignIn: range(ms.map((m) => m.cpuMsPerSignIn)) },
    ]),
  );
  report.runs = runs;
  console.log(JSON.stringify(report, null, 2));
}

await main();
