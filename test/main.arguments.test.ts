// The entry point's arguments: --help/-h and --version/-v answer and exit 0; anything else is
// refused with exit 2, and in no case does a service start listening.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort } from "./support/global-setup.js";

const root = join(import.meta.dirname, "..");
const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };

/** Runs src/main.ts as `npm start` would run the build, on a free PORT; the port must still be free after. */
async function runMain(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; portFree: boolean }> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...args], {
    cwd: root,
    env: { ...process.env, PORT: String(port), DATA_DIR: "memory://", LOG_LEVEL: "silent" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  // The old behaviour (start the service anyway) must fail the test, not hang it: on "listening on"
  // the port is checked while held, then the child is stopped.
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const listening = new Promise<void>((resolve) => child.stdout.on("data", () => stdout.includes("listening on") && resolve()));
  const started = await Promise.race([exited.then(() => false), listening.then(() => true)]);
  const portFree = await new Promise<boolean>((resolve) => {
    const s = createServer().once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
  if (started) child.kill("SIGTERM");
  const code = started ? null : await exited;
  await exited;
  return { code, stdout, stderr, portFree };
}

describe("main arguments", () => {
  it.each([["--help"], ["-h"]])("%s prints the usage and the configuration, exit 0", async (arg) => {
    const r = await runMain([arg]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: npm start");
    expect(r.stdout).toMatch(/^ {2}DATABASE_URL /m);
    expect(r.stdout).not.toContain("listening on");
    expect(r.portFree).toBe(true);
  });

  it.each([["--version"], ["-v"]])("%s prints package.json's version, exit 0", async (arg) => {
    const r = await runMain([arg]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
    expect(r.portFree).toBe(true);
  });

  it.each([["--port"], ["start"], ["-h", "--verbose"]])("refuses %s with exit 2, naming it, and does not start", async (...args) => {
    const r = await runMain(args);
    const bad = args.at(-1)!;
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toStrictEqual([`Unknown argument: ${bad}. Usage: npm start [-- --help | --version] (configured by environment variables only)`]);
    expect(r.stdout).toBe("");
    expect(r.portFree).toBe(true);
  });
});
