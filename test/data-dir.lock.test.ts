// One process per PGlite data folder: a second service on the same DATA_DIR refuses to start,
// naming the folder and the pid holding it; a lock left by a dead process is taken over; a clean
// stop releases it. Real processes on a real folder.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LOCK_FILE, lockDataDir } from "../src/stores/postgres/data-dir-lock.js";
import { spawnService } from "./support/spawn.js";

// Embedded mode on purpose: no DATABASE_URL, no Redis.
const embedded = (dataDir: string) => ({ ...process.env, PORT: "0", DATA_DIR: dataDir, LOG_LEVEL: "silent", DATABASE_URL: "", REDIS_URL: "", REDIS_CLUSTER_NODES: "" });

/** A pid that certainly belonged to a process that has exited. */
const deadPid = () => spawnSync(process.execPath, ["-e", ""]).pid!;

function run(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], { env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  // A second service that starts anyway (the bug) is stopped, so that the test fails rather than hangs.
  const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
  return new Promise((resolve) => child.once("exit", (code) => (clearTimeout(guard), resolve({ code, stderr }))));
}

describe("DATA_DIR lock", () => {
  it("a second service on the same DATA_DIR refuses; a stale lock is taken over; a clean stop releases it", { timeout: 180_000 }, async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "signin-lock-")), "data");
    const lockFile = join(dir, LOCK_FILE);
    const first = await spawnService(embedded(dir));
    try {
      expect(JSON.parse(readFileSync(lockFile, "utf8"))).toStrictEqual({ pid: first.child.pid, host: os.hostname() });
      const second = await run(embedded(dir));
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`Start-up failed: DATA_DIR ${dir} is in use by process ${first.child.pid} (lock file ${lockFile}); stop that process`);
      // The refused start left the holder's lock alone, and the first service still answers.
      expect(JSON.parse(readFileSync(lockFile, "utf8")).pid).toBe(first.child.pid);
      expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    } finally {
      expect(await first.stop()).toBe(0);
    }
    expect(existsSync(lockFile)).toBe(false);

    // As if the holder had been killed (SIGKILL, power loss): its lock stays behind, naming a dead pid.
    writeFileSync(lockFile, JSON.stringify({ pid: deadPid(), host: os.hostname() }));
    const third = await spawnService(embedded(dir));
    try {
      expect(JSON.parse(readFileSync(lockFile, "utf8")).pid).toBe(third.child.pid);
    } finally {
      expect(await third.stop()).toBe(0);
    }
    expect(existsSync(lockFile)).toBe(false);
  });

  it("in one process: held until released; unreadable or dead-pid locks are taken over; another host's lock is respected", async () => {
    const dir = mkdtempSync(join(tmpdir(), "signin-lock-"));
    const lockFile = join(dir, LOCK_FILE);
    const lock = await lockDataDir(dir);
    await expect(lockDataDir(dir)).rejects.toThrow(`DATA_DIR ${dir} is in use by process ${process.pid} (lock file ${lockFile})`);
    await lock.release();
    expect(existsSync(lockFile)).toBe(false);

    for (const stale of ["", "{not json", JSON.stringify({ pid: deadPid(), host: os.hostname() }), JSON.stringify({ pid: process.pid, host: os.hostname() })]) {
      writeFileSync(lockFile, stale);
      const taken = await lockDataDir(dir);
      expect(JSON.parse(readFileSync(lockFile, "utf8"))).toStrictEqual({ pid: process.pid, host: os.hostname() });
      await taken.release();
    }

    writeFileSync(lockFile, JSON.stringify({ pid: deadPid(), host: "elsewhere.example" }));
    await expect(lockDataDir(dir)).rejects.toThrow(/is in use by process \d+ on elsewhere.example/);
  });
});
