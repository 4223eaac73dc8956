// `npm run bench`: the service in its own process on real Redis and PGlite (or DATABASE_URL),
// figures as ratios to baselines measured in the same run (machines here are shared and noisy).
// BENCH_SECONDS (default 10) sets each scenario's duration; BENCH_TRACING=1 runs it with tracing on (bench/otlp-sink.ts).
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { hash, verify } from "@node-rs/argon2";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { generate } from "otplib";
import { SessionService } from "../gen/signin/session/v1/session_pb.js";
import { freePort, waitForPort } from "../test/support/global-setup.js";
import { measureCpu, type CpuPerRequest, type Measured } from "./cpu.js";
import { ipOf, load, loop, type LoadResult } from "./load.js";
import { tracingSink } from "./otlp-sink.js";
import { benchEnv, COSYNC_APP_TOKEN, dropBenchSchema, PASSWORD, seed, startBenchService, TOTP_SECRET } from "./service.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Math.max(1, Math.round(SECONDS / 4));
const CPUS = os.availableParallelism();
const LEGIT_USERS = 1500;
const VICTIMS = 50;
const TOTP_USERS = 4000; // a TOTP code is accepted once per account and step: enough accounts for the run
const CONNECT = { "connect-protocol-version": "1" };
const FLOOD_IPS = 50;

const progress = (msg: string) => process.stderr.write(`\r\x1b[K[bench] ${msg}`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r2 = (x: number) => Math.round(x * 100) / 100;

/** REDIS_URL's server, or a private one; its CPU time is measured when it runs on this machine. */
async function redisUrl(): Promise<{ url: string; pid: number | null; stop: () => void }> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, pid: localRedisPid(process.env.REDIS_URL), stop: () => {} };
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  await waitForPort(port);
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid!, stop: () => child.kill() };
}

function localRedisPid(url: string): number | null {
  if (!["127.0.0.1", "localhost", "[::1]"].includes(new URL(url).hostname)) return null;
  try {
    const pid = Number(/process_id:(\d+)/.exec(execFileSync("redis-cli", ["-u", url, "info", "server"], { encoding: "utf8" }))?.[1]);
    readFileSync(`/proc/${pid}/stat`);
    return pid;
  } catch {
    return null; // in a container of its own: not counted
  }
}

/**
 * (1) Raw argon2id verify ceiling with the default parameters, HASH_CONCURRENCY (= CPUs) at once,
 * and the CPU time of one verify at that saturation with nothing else running (all threads).
 */
async function argon2Ceiling(): Promise<{ perSecond: number; verifyCpuMs: number }> {
  const h = await hash(PASSWORD, { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 } as never);
  let n = 0;
  const cpu = process.cpuUsage();
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CPUS }, async () => {
      while (performance.now() < end) {
        await verify(h, PASSWORD);
        n++;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { perSecond: n / SECONDS, verifyCpuMs: r2((used.user + used.system) / 1000 / n) };
}

const legit = (url: string, seconds = SECONDS, path = "/api/session.setCookie", headers?: Record<string, string>) =>
  load({
    url,
    path,
    headers,
    connections: CPUS * 2,
    seconds,
    request: (i) => ({ body: { user: `user${i % LEGIT_USERS}`, password: PASSWORD }, ip: ipOf(100_000 + i) }),
  });

/** The current TOTP code of the seeded secret (computed once per 30 s step). */
const codes = new Map<number, Promise<string>>();
const totpNow = () => {
  const step = Math.floor(Date.now() / 30_000);
  if (!codes.has(step)) codes.set(step, generate({ secret: TOTP_SECRET, epoch: Math.floor(Date.now() / 1000) }));
  return codes.get(step)!;
};

async function postJson(url: string, body: unknown, headers: Record<string, string>) {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return (await res.json()) as any;
}

/** (3) Yeep-style sign-in with TOTP: the first request asks for the factor, the second carries it. */
const totpFlow = (url: string, offset: number) =>
  loop(CPUS * 2, SECONDS, async (i) => {
    const n = (offset + i) % TOTP_USERS;
    const headers = { "x-forwarded-for": ipOf(300_000 + offset + i) };
    const creds = { user: `totp${n}`, password: PASSWORD };
    const first = await postJson(`${url}/api/session.setCookie`, creds, headers);
    if (first.error?.code !== 10034) return `step1:${first.error?.code ?? "ok"}`;
    const second = await postJson(`${url}/api/session.setCookie`, { ...creds, secondaryAuthFactor: { type: "TOTP", token: await totpNow() } }, headers);
    return second.ok ? "ok" : String(second.error.code);
  });

/** (3) Cosync-style login + loginComplete (google two-factor). */
const cosyncFlow = (url: string) =>
  loop(CPUS * 2, SECONDS, async (i) => {
    const headers = { "app-token": COSYNC_APP_TOKEN, "x-forwarded-for": ipOf(400_000 + i) };
    const login = await postJson(`${url}/api/appuser/login`, { handle: `cosync${i % TOTP_USERS}@bench.io`, password: createHash("md5").update(PASSWORD).digest("hex") }, headers);
    if (!login["login-token"]) return `login:${login.code}`;
    const done = await postJson(`${url}/api/appuser/loginComplete`, { loginToken: login["login-token"], code: await totpNow() }, headers);
    return done.jwt ? "ok" : String(done.code);
  });

/** (2) Sign-in over gRPC (HTTP/2), through the generated client. */
const grpcSignIn = (url: string) => {
  const client = createClient(SessionService, createGrpcTransport({ baseUrl: url }));
  return loop(CPUS * 2, SECONDS, async (i) => {
    await client.issueToken({ user: `user${i % LEGIT_USERS}`, password: PASSWORD }, { headers: { "x-forwarded-for": ipOf(500_000 + i) } });
    return "ok";
  });
};

/** Peak resident memory of a process so far (VmHWM), MiB. */
const peakRssMiB = (pid: number) => Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024);

const flood = (url: string, rate: number | undefined, seconds: number) =>
  load({
    url,
    path: "/api/session.setCookie",
    connections: 64,
    seconds,
    overallRate: rate,
    // Wrong passwords against victims and unknown accounts, from a botnet of FLOOD_IPS addresses.
    request: (i) => ({
      body: { user: i % 2 ? `user${LEGIT_USERS + (i % VICTIMS)}` : `ghost${i}`, password: "wrong password" },
      ip: ipOf(i % FLOOD_IPS),
    }),
  });

/** Sequential timings of unknown-user and wrong-password answers, interleaved, fresh IPs. */
async function enumerationTiming(url: string, n: number) {
  const unknown: number[] = [];
  const wrong: number[] = [];
  for (let i = 0; i < n; i++) {
    for (const [user, into] of [[`nobody${i}`, unknown], [`user${i}`, wrong]] as const) {
      const t = performance.now();
      const res = await fetch(`${url}/api/session.setCookie`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": ipOf(200_000 + i) },
        body: JSON.stringify({ user, password: "not the password" }),
      });
      await res.text();
      into.push(performance.now() - t);
    }
  }
  return { unknownMs: median(unknown), wrongMs: median(wrong) };
}

async function main() {
  const redis = await redisUrl();
  // Tracing is off unless asked for, whatever OTEL_* the shell holds.
  const sink = process.env.BENCH_TRACING === "1" ? await tracingSink() : null;
  const env = { ...benchEnv(redis.url), ...(sink ? sink.env : { OTEL_SDK_DISABLED: "true" }) };
  progress("seeding accounts");
  await seed(env, { plain: LEGIT_USERS + VICTIMS + 200, totp: TOTP_USERS, cosync: TOTP_USERS });
  const svc = await startBenchService(env);
  const results: Record<string, unknown> = {};
  try {
    progress("(1) raw argon2id verify ceiling");
    const { perSecond: ceiling, verifyCpuMs } = await argon2Ceiling();
    const measured: Measured = { serverPid: svc.pid, redisPid: redis.pid, postgres: Boolean(env.DATABASE_URL) };
    const beyond = (c: CpuPerRequest) => ({ ...c, beyondVerifyMs: r2(c.serviceMs - verifyCpuMs) });

    // The first seconds of each path run cold (JIT, database caches): warm both, uncounted.
    progress("(2) warm-up");
    await legit(svc.url, WARMUP_SECONDS);
    await legit(svc.url, WARMUP_SECONDS, "/signin.session.v1.SessionService/SetCookie", CONNECT);
    progress("(2) sign-in without load: legacy REST");
    const [unloaded, cpu] = await measureCpu(measured, () => legit(svc.url));
    progress("(2) sign-in without load: Connect");
    const [connect, connectCpu] = await measureCpu(measured, () => legit(svc.url, SECONDS, "/signin.session.v1.SessionService/SetCookie", CONNECT));
    progress("(2) sign-in without load: gRPC");
    const [grpc, grpcCpu] = await measureCpu(measured, () => grpcSignIn(svc.url));
    const peakRss = peakRssMiB(svc.pid);

    progress("(3) sign-in with TOTP (two requests), Cosync login + loginComplete");
    const totp = await totpFlow(svc.url, 0);
    const cosync = await cosyncFlow(svc.url);

    progress("(4) user.info with a session vs an empty RPC");
    const { token } = await postJson(`${svc.url}/api/session.issueToken`, { user: "user0", password: PASSWORD }, { "x-forwarded-for": ipOf(600_000) });
    const info = await load({
      url: svc.url,
      path: "/api/user.info",
      connections: CPUS * 4,
      seconds: SECONDS,
      headers: { authorization: `Bearer ${token}` },
      request: () => ({ body: {}, ip: ipOf(600_001) }),
    });
    const empty = await load({
      url: svc.url,
      path: "/grpc.health.v1.Health/Check",
      connections: CPUS * 4,
      seconds: SECONDS,
      headers: CONNECT,
      request: () => ({ body: {}, ip: ipOf(600_002) }),
    });

    progress("(5) wrong-password flood at 10x capacity + legitimate sign-ins");
    const floodRate = Math.max(50, Math.round(unloaded.rps * 10));
    const [underFlood, floodRun] = await Promise.all([legit(svc.url), flood(svc.url, floodRate, SECONDS)]);

    progress("(5) cost of a rejected request");
    const rejected = await flood(svc.url, undefined, Math.max(2, SECONDS / 3));

    progress("(5) unknown user vs wrong password timing");
    const timing = await enumerationTiming(svc.url, 100);

    results.argon2VerifiesPerSecond = r2(ceiling);
    results.signInUnloaded = summary(unloaded);
    results.signInToCeiling = r2(unloaded.rps / ceiling);
    results.verifyCpuMs = verifyCpuMs;
    results.signInCpuMs = { rest: beyond(cpu), connect: beyond(connectCpu), grpc: beyond(grpcCpu) };
    results.signInConnect = summary(connect);
    results.connectToCeiling = r2(connect.rps / ceiling);
    results.legacyToConnect = r2(unloaded.rps / connect.rps);
    results.signInGrpc = summary(grpc);
    results.grpcToCeiling = r2(grpc.rps / ceiling);
    results.peakRssMiBDuringSignIn = peakRss;
    results.totpTwoStep = summary(totp);
    results.cosyncTwoStep = summary(cosync);
    results.userInfo = summary(info);
    results.emptyRpc = summary(empty);
    results.userInfoToEmptyRpc = r2(info.rps / empty.rps);
    results.flood = { targetRate: floodRate, sent: summary(floodRun), legitimate: summary(underFlood) };
    results.legitP50UnderFloodVsUnloaded = r2(underFlood.p50 / unloaded.p50);
    results.legitP99UnderFloodVsUnloaded = r2(underFlood.p99 / unloaded.p99);
    results.rejected = summary(rejected);
    // Throughput-based: what share of one argon2 verify's CPU time a refused request costs.
    results.rejectedCostVsArgon2Verify = r2(ceiling / rejected.rps);
    results.timing = { ...timing, ratio: r2(timing.unknownMs / timing.wrongMs) };
  } finally {
    await svc.stop(); // flushes the last spans
    results.tracing = sink ? { on: true, sampler: "always_on", ...sink.counts() } : { on: false };
  }
  try {
    // (7) Workers need a PostgreSQL server (PGlite lives inside one process).
    if (env.DATABASE_URL) results.workers = await workerScaling(env);
  } finally {
    redis.stop();
    await sink?.stop();
    await dropBenchSchema(env);
  }
  progress("done\n");
  print(results);
  const machine = { cpus: CPUS, cpuModel: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, seconds: SECONDS };
  mkdirSync("bench/results", { recursive: true });
  const file = `bench/results/${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
  writeFileSync(file, JSON.stringify({ machine, results }, null, 2));
  console.log(`\nwritten to ${file}`);
}

/**
 * (7) CLUSTER_WORKERS=1 against CLUSTER_WORKERS=CPUS (hashing divided among them): sign-in and
 * user.info throughput, each as a ratio to one worker in the same run.
 */
async function workerScaling(env: Record<string, string>) {
  const rows: Record<string, { signIn: number; userInfo: number }> = {};
  for (const workers of [1, CPUS]) {
    progress(`(7) CLUSTER_WORKERS=${workers}`);
    const svc = await startBenchService({ ...env, CLUSTER_WORKERS: String(workers) });
    try {
      await legit(svc.url, WARMUP_SECONDS);
      const signIn = await legit(svc.url, SECONDS / 2);
      const { token } = await postJson(`${svc.url}/api/session.issueToken`, { user: "user1", password: PASSWORD }, { "x-forwarded-for": ipOf(700_000 + workers) });
      const info = await load({
        url: svc.url,
        path: "/api/user.info",
        connections: CPUS * 4,
        seconds: SECONDS / 2,
        headers: { authorization: `Bearer ${token}` },
        request: () => ({ body: {}, ip: ipOf(700_100 + workers) }),
      });
      rows[workers] = { signIn: r2(signIn.rps), userInfo: r2(info.rps) };
    } finally {
      await svc.stop();
    }
  }
  const one = rows[1]!;
  const many = rows[CPUS]!;
  return { cpus: CPUS, rows, signInRatio: r2(many.signIn / one.signIn), userInfoRatio: r2(many.userInfo / one.userInfo) };
}

/** What a sign-in costs the service beyond its one verify, and where it goes. */
function cpuLine(c: CpuPerRequest & { beyondVerifyMs: number }) {
  const redis = c.redisMs === null ? ", Redis not local" : ` + Redis ${c.redisMs}`;
  const pg = c.postgresMs === null ? "" : ` + PostgreSQL ${c.postgresMs}`;
  return `${c.beyondVerifyMs} beyond the verify = server main thread ${c.serverMainMs} (kernel ${c.serverMainSystemMs}) + other threads ${c.serverThreadsMs}${redis}${pg} (= ${c.serviceMs}) - one verify; load generator ${c.loadGeneratorMs}`;
}

function summary(r: LoadResult) {
  return { rps: r2(r.rps), p50ms: r.p50, p99ms: r.p99, requests: r.requests, answers: r.kinds };
}

function print(results: Record<string, any>) {
  const rows: Array<[string, string]> = [
    ["(1) argon2id verify ceiling", `${results.argon2VerifiesPerSecond} verifies/s`],
    ["(2) sign-in, no load (legacy REST)", `${results.signInUnloaded.rps} req/s, p50 ${results.signInUnloaded.p50ms} ms, p99 ${results.signInUnloaded.p99ms} ms`],
    ["    ratio to (1)", `${results.signInToCeiling}`],
    ["    one verify at saturation, alone", `${results.verifyCpuMs} ms of CPU`],
    ["    CPU ms per sign-in, legacy REST", cpuLine(results.signInCpuMs.rest)],
    ["(2) sign-in, no load (Connect JSON)", `${results.signInConnect.rps} req/s, p50 ${results.signInConnect.p50ms} ms, p99 ${results.signInConnect.p99ms} ms = ${results.connectToCeiling}x (1); legacy/Connect ${results.legacyToConnect}`],
    ["    CPU ms per sign-in, Connect", cpuLine(results.signInCpuMs.connect)],
    ["(2) sign-in, no load (gRPC, HTTP/2)", `${results.signInGrpc.rps} req/s, p50 ${results.signInGrpc.p50ms} ms, p99 ${results.signInGrpc.p99ms} ms = ${results.grpcToCeiling}x (1)`],
    ["    CPU ms per sign-in, gRPC", cpuLine(results.signInCpuMs.grpc)],
    ["(6) peak RSS of the server so far", `${results.peakRssMiBDuringSignIn} MiB`],
    ["(3) sign-in with TOTP (2 requests)", `${results.totpTwoStep.rps} flows/s, p50 ${results.totpTwoStep.p50ms} ms, p99 ${results.totpTwoStep.p99ms} ms, ${JSON.stringify(results.totpTwoStep.answers)}`],
    ["(3) Cosync login + loginComplete", `${results.cosyncTwoStep.rps} flows/s, p50 ${results.cosyncTwoStep.p50ms} ms, p99 ${results.cosyncTwoStep.p99ms} ms, ${JSON.stringify(results.cosyncTwoStep.answers)}`],
    ["(4) user.info with a session", `${results.userInfo.rps} req/s, p50 ${results.userInfo.p50ms} ms, p99 ${results.userInfo.p99ms} ms`],
    ["    empty RPC (health Check)", `${results.emptyRpc.rps} req/s; user.info = ${results.userInfoToEmptyRpc}x`],
    ["(5) flood (wrong passwords, 50 IPs)", `target ${results.flood.targetRate} req/s, sent ${results.flood.sent.rps} req/s, answers ${JSON.stringify(results.flood.sent.answers)}`],
    ["    legitimate under flood", `${results.flood.legitimate.rps} req/s, p50 ${results.flood.legitimate.p50ms} ms, p99 ${results.flood.legitimate.p99ms} ms, answers ${JSON.stringify(results.flood.legitimate.answers)}`],
    ["    legit p50 / p99 vs no load", `${results.legitP50UnderFloodVsUnloaded}x / ${results.legitP99UnderFloodVsUnloaded}x`],
    ["(5) refused requests at saturation", `${results.rejected.rps} req/s (p50 ${results.rejected.p50ms} ms), answers ${JSON.stringify(results.rejected.answers)}`],
    ["    cost of one vs an argon2 verify", `${results.rejectedCostVsArgon2Verify}x`],
    ["(5) unknown user vs wrong password", `median ${r2(results.timing.unknownMs)} ms vs ${r2(results.timing.wrongMs)} ms (ratio ${results.timing.ratio})`],
  ];
  const t = results.tracing;
  rows.push(["(8) tracing", t.on ? `on (always_on): ${t.spans} spans in ${t.exportRequests} OTLP exports, ${Math.round(t.bytes / 1024)} KiB` : "off (BENCH_TRACING=1 turns it on)"]);
  const w = results.workers;
  if (w) {
    const one = w.rows[1];
    const many = w.rows[w.cpus];
    rows.push(["(7) CLUSTER_WORKERS=1: sign-in / user.info", `${one.signIn} / ${one.userInfo} req/s`]);
    rows.push([`    CLUSTER_WORKERS=${w.cpus}`, `${many.signIn} / ${many.userInfo} req/s = ${w.signInRatio}x / ${w.userInfoRatio}x one worker`]);
  } else {
    rows.push(["(7) CLUSTER_WORKERS scaling", "skipped: workers need DATABASE_URL (PGlite lives in one process)"]);
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
}

await main();
