// Start-up failures name the variable, the cause and what to do, within a bounded time, with no
// warnings: the real process is started with each bad value and must exit 1 by itself.
import { spawn } from "node:child_process";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * Every start-up failure below is reported within this time once the code has loaded: it catches a
 * start-up that keeps retrying (ioredis, pg) instead of giving up. The 3 s connect timeouts plus an
 * in-memory PGlite opened on a machine loaded by other tests (up to ~5 s seen in CI) fit in it.
 */
const BOUND_MS = 10_000;
// Loading the code (tsx compiling the sources, on a machine shared with other tests) takes seconds
// of its own: measured by a start that fails before opening anything, and not counted in the bound.
let loadMs = 0;

interface Outcome {
  code: number | null;
  stderr: string;
  elapsedMs: number;
}

/** Starts src/main.ts with `env` (no Redis, no PostgreSQL server, PGlite in memory unless overridden). */
function start(env: Record<string, string>): Promise<Outcome> {
  const began = Date.now();
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: { ...process.env, PORT: "0", DATA_DIR: "memory://", LOG_LEVEL: "silent", REDIS_URL: "", REDIS_CLUSTER_NODES: "", DATABASE_URL: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  child.stdout.on("data", (d) => (stderr += d)); // a service that starts anyway says so on stdout
  // A service that does not fail is stopped so that the test fails instead of hanging.
  const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
  return new Promise((resolve) =>
    child.once("exit", (code) => {
      clearTimeout(guard);
      resolve({ code, stderr, elapsedMs: Date.now() - began });
    }),
  );
}

function expectFailure(out: Outcome, message: RegExp) {
  expect(out.stderr).toMatch(message);
  expect(out.code).toBe(1);
  expect(out.stderr).not.toMatch(/Warning|at .*\.ts:\d+/); // no warnings, no stack traces
  expect(out.elapsedMs - loadMs).toBeLessThan(BOUND_MS);
}

const freshDir = () => join(mkdtempSync(join(tmpdir(), "signin-dd-")), "data");

// TCP servers that accept connections and never answer: the slow failure, bounded by our timeouts.
const silent: net.Server[] = [];
async function silentServer(): Promise<number> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => void sockets.push(s));
  server.on("close", () => sockets.forEach((s) => s.destroy()));
  silent.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as net.AddressInfo).port;
}
afterAll(() => {
  for (const s of silent) s.close();
});

describe("start-up failures", () => {
  beforeAll(async () => {
    const out = await start({ HOST: "999.1.1.1" });
    expect(out.code).toBe(1);
    loadMs = out.elapsedMs;
  }, 90_000);

  it("HOST that is not an address says so, before anything is opened", async () => {
    const dataDir = freshDir();
    expectFailure(await start({ HOST: "999.1.1.1", DATA_DIR: dataDir }), /^Configuration error: HOST: "999.1.1.1" is not a valid IP address; use an address of this machine/m);
    expect(existsSync(dataDir)).toBe(false);
  });

  it("TLS_CERT naming a missing file says which file, before anything is opened", async () => {
    const dataDir = freshDir();
    const out = await start({ TLS_CERT: "/nonexistent/cert.pem", TLS_KEY: "/nonexistent/key.pem", DATA_DIR: dataDir });
    expectFailure(out, /^Configuration error: TLS_CERT: cannot read \/nonexistent\/cert.pem \(no such file\); point TLS_CERT at a readable PEM certificate file/m);
    expect(existsSync(dataDir)).toBe(false);
  });

  it("TLS_CERT and TLS_KEY that are not PEM say so", async () => {
    const dir = mkdtempSync(join(tmpdir(), "signin-tls-"));
    writeFileSync(join(dir, "cert.pem"), "not a certificate");
    writeFileSync(join(dir, "key.pem"), "not a key");
    const out = await start({ TLS_CERT: join(dir, "cert.pem"), TLS_KEY: join(dir, "key.pem") });
    expectFailure(out, /^Configuration error: TLS_CERT and TLS_KEY: .*cert.pem and .*key.pem are not a matching PEM certificate and private key/m);
  });

  it("DATA_DIR that cannot be created (under a regular file) names the folder", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "signin-dd-")), "a-file");
    writeFileSync(file, "");
    const out = await start({ DATA_DIR: join(file, "data") });
    expectFailure(out, new RegExp(`^Start-up failed: DATA_DIR: cannot create the folder ${file}/data \\(a part of the path is a file, not a folder\\); choose a folder`, "m"));
  });

  it("DATABASE_URL with nothing listening: refused, named, without the password", async () => {
    const out = await start({ DATABASE_URL: "postgres://app:s3cret-pw@127.0.0.1:1/signin" });
    expectFailure(out, /^Start-up failed: DATABASE_URL: cannot reach PostgreSQL at 127.0.0.1:1 within 3 s \(connection refused\); start PostgreSQL or correct DATABASE_URL, or unset it/m);
    expect(out.stderr).not.toContain("s3cret-pw");
  });

  it("DATABASE_URL whose server never answers: given up after 3 s", async () => {
    const port = await silentServer();
    const out = await start({ DATABASE_URL: `postgres://app@127.0.0.1:${port}/signin` });
    expectFailure(out, new RegExp(`^Start-up failed: DATABASE_URL: cannot reach PostgreSQL at 127.0.0.1:${port} within 3 s \\(no answer\\)`, "m"));
  });

  it("REDIS_URL with nothing listening: named, with what to do, no MaxListenersExceededWarning", async () => {
    const out = await start({ REDIS_URL: "redis://127.0.0.1:1" });
    expectFailure(out, /^Start-up failed: REDIS_URL: cannot reach Redis at 127.0.0.1:1 within 3 s \(connection refused\); start Redis or correct REDIS_URL, or unset it to use the in-process store$/m);
  });

  it("REDIS_URL whose server never answers: given up after 3 s", async () => {
    const port = await silentServer();
    const out = await start({ REDIS_URL: `redis://127.0.0.1:${port}` });
    expectFailure(out, new RegExp(`^Start-up failed: REDIS_URL: cannot reach Redis at 127.0.0.1:${port} within 3 s \\(no answer\\)`, "m"));
  });

  // After the database has opened (PGlite in memory: seconds on a busy machine), so not bounded here.
  it("PORT already in use names PORT", { timeout: 90_000 }, async () => {
    const port = await silentServer();
    const out = await start({ PORT: String(port) });
    expect(out.stderr).toMatch(new RegExp(`^Start-up failed: PORT: ${port} is already in use on 127.0.0.1; stop the process using it or choose another PORT`, "m"));
    expect(out.code).toBe(1);
    expect(out.stderr).not.toMatch(/Warning/);
  });
});
