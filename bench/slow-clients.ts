// `npm run bench:slow-clients`: issue 15's hostile clients at full scale against one instance on its
// default connection bounds, while a legitimate client signs in on a new connection every 500 ms.
// BENCH_SECONDS (default 30) sets the attack's length; SERVICE_DIR runs another checkout's service.
import { randomBytes } from "node:crypto";
import http from "node:http";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { frame, openSignIn, PREFACE, RST_STREAM, SETTINGS } from "../test/support/h2-frames.js";
import { spawnService } from "../test/support/spawn.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
// ATTACKS=idle,slowloris,trickle,streams,reset (default all) runs some of them only.
const ATTACKS = new Set((process.env.ATTACKS ?? "idle,slowloris,trickle,streams,reset").split(","));
const IDLE = 3000;
const SLOWLORIS = 200;
const TRICKLE = 50;
const H2_STREAMS = 5000;
const RESETTERS = 10;
const USER = { username: "coyote", password: "catch-the-b1rd$" };
const LEGIT_IP = "127.0.0.250";
// Attackers come from 127.0.0.1..127.0.0.30 (Linux answers on all of 127/8), so that the per-IP cap
// alone cannot be what saves the sign-in.
const attackerIp = (i: number) => `127.0.0.${1 + (i % 30)}`;

const resetStream = (id: number) => frame(RST_STREAM, 0, id, Buffer.from([0, 0, 0, 8])); // CANCEL

let running = true;
const counts = { connects: 0, closedByServer: 0 };

/** One attacker: connects, does `act`, and reconnects whenever the server closes it, until the end. */
function attacker(i: number, port: number, act: (socket: net.Socket) => void): void {
  if (!running) return;
  const socket = net.connect({ host: "127.0.0.1", port, localAddress: attackerIp(i) });
  counts.connects++;
  socket.on("error", () => {});
  socket.resume();
  socket.once("connect", () => act(socket));
  socket.once("close", () => {
    if (!running) return;
    counts.closedByServer++;
    setTimeout(() => attacker(i, port, act), 200).unref();
  });
  stopAll.push(() => socket.destroy());
}
const stopAll: Array<() => void> = [];

const slowloris = (socket: net.Socket) => {
  socket.write("POST /api/session.setCookie HTTP/1.1\r\nHost: x\r\n");
  let n = 0;
  const t = setInterval(() => (socket.writable ? socket.write(`X-${n++}: y\r\n`) : clearInterval(t)), 5000);
  socket.once("close", () => clearInterval(t));
};
const trickle = (socket: net.Socket) => {
  socket.write("POST /api/session.setCookie HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n");
  const t = setInterval(() => (socket.writable ? socket.write(" ") : clearInterval(t)), 1000);
  socket.once("close", () => clearInterval(t));
};
const manyStreams = (socket: net.Socket) => {
  const ids = Array.from({ length: H2_STREAMS }, (_, k) => 1 + 2 * k);
  socket.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), ...ids.map(openSignIn)]));
};
const rapidReset = (socket: net.Socket) => {
  let id = 1;
  socket.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0)]));
  const burst = () => {
    if (!socket.writable || id > 2 ** 30) return;
    const frames: Buffer[] = [];
    for (let k = 0; k < 200; k++, id += 2) frames.push(openSignIn(id), resetStream(id));
    socket.write(Buffer.concat(frames), () => setImmediate(burst));
  };
  burst();
};

function signIn(url: string): Promise<{ ms: number; ok: boolean }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = http.request(`${url}/api/session.setCookie`, { method: "POST", localAddress: LEGIT_IP, agent: false, timeout: 10_000, headers: { "content-type": "application/json" } }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => resolve({ ms: performance.now() - started, ok: res.statusCode === 200 && text.includes('"user"') }));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve({ ms: performance.now() - started, ok: false }));
    req.end(JSON.stringify({ user: USER.username, password: USER.password }));
  });
}

const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;
const r0 = (x: number) => Math.round(x);

async function main() {
  const cwd = process.env.SERVICE_DIR ?? process.cwd();
  const bootstrap = join(mkdtempSync(join(tmpdir(), "signin-slow-")), "users.json");
  writeFileSync(bootstrap, JSON.stringify({ users: [USER] }));
  const prefix = `bench-slow:${randomBytes(4).toString("hex")}:`;
  // The connection bounds stay at their defaults: those are what is measured. No TRUSTED_PROXIES:
  // the attackers are the sockets' peers.
  // LIMIT_IP_REQUESTS raised: the legitimate client signs in twice a second, which is not what is measured.
  const env: NodeJS.ProcessEnv = { ...process.env, LIMIT_IP_REQUESTS: "10000/60", PORT: "0", HOST: "127.0.0.1", DATA_DIR: "memory://", LOG_LEVEL: "warn", SIGNIN_BOOTSTRAP: bootstrap, REDIS_KEY_PREFIX: prefix };
  delete env.TRUSTED_PROXIES;
  process.chdir(cwd);
  // PROF=<dir> writes the service's CPU profile there (node --cpu-prof) when it stops.
  const svc = await spawnService(env, process.env.PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.PROF}`, "--import", "tsx", "src/main.ts"] : undefined);
  const pid = svc.child.pid!;
  const port = Number(new URL(svc.url).port);
  try {
    await signIn(svc.url); // warm-up
    const quiet: number[] = [];
    for (let i = 0; i < 5; i++) quiet.push((await signIn(svc.url)).ms);
    const before = { fds: fds(pid), rss: rssMiB(pid) };
    const samples: Array<{ fds: number; rss: number }> = [];
    const sampler = setInterval(() => samples.push({ fds: fds(pid), rss: rssMiB(pid) }), 1000);
    if (ATTACKS.has("idle")) for (let i = 0; i < IDLE; i++) attacker(i, port, () => {});
    if (ATTACKS.has("slowloris")) for (let i = 0; i < SLOWLORIS; i++) attacker(i, port, slowloris);
    if (ATTACKS.has("trickle")) for (let i = 0; i < TRICKLE; i++) attacker(i, port, trickle);
    if (ATTACKS.has("streams")) attacker(0, port, manyStreams);
    if (ATTACKS.has("reset")) for (let i = 0; i < RESETTERS; i++) attacker(i, port, rapidReset);
    const legit: Array<{ ms: number; ok: boolean }> = [];
    const end = Date.now() + SECONDS * 1000;
    while (Date.now() < end) {
      const pace = new Promise((resolve) => setTimeout(resolve, 500));
      legit.push(await signIn(svc.url));
      await pace;
    }
    running = false;
    for (const stop of stopAll) stop();
    clearInterval(sampler);
    // After the attack: descriptors back near the baseline?
    let settledMs = 0;
    while (fds(pid) > before.fds + 20 && settledMs < 30_000) await new Promise((resolve) => setTimeout(resolve, 250)).then(() => (settledMs += 250));
    const after = { fds: fds(pid), rss: rssMiB(pid), signIn: await signIn(svc.url) };
    const ms = legit.map((l) => l.ms);
    const report = {
      seconds: SECONDS,
      attacks: [...ATTACKS],
      attack: { idle: IDLE, slowloris: SLOWLORIS, trickleBodies: TRICKLE, h2StreamsOnOneConnection: H2_STREAMS, rapidResetClients: RESETTERS, attackerConnects: counts.connects, closedByServer: counts.closedByServer },
      signInsQuietMedianMs: r0(pct(quiet, 0.5)),
      signIns: { total: legit.length, ok: legit.filter((l) => l.ok).length, over2s: legit.filter((l) => !l.ok || l.ms >= 2000).length, medianMs: r0(pct(ms, 0.5)), p95Ms: r0(pct(ms, 0.95)), maxMs: r0(Math.max(...ms)) },
      service: {
        fdsBefore: before.fds,
        fdsMax: Math.max(...samples.map((s) => s.fds)),
        fdsAfter: after.fds,
        fdsSettledWithinMs: settledMs,
        rssMiBBefore: r0(before.rss),
        rssMiBMax: r0(Math.max(...samples.map((s) => s.rss))),
        rssMiBAfter: r0(after.rss),
      },
      signInAfter: { ok: after.signIn.ok, ms: r0(after.signIn.ms) },
    };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await svc.stop();
  }
}

await main();
