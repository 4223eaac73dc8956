// The README's five-minute tour, run as a reader runs it: its ```sh blocks, in order, with bash
// and curl, in a folder of their own (linked to this checkout's package.json, node_modules and
// dist/, as the tour runs "in the checkout"). The `npm start` line is not run: the test starts the
// service itself with that line's variables, on a free port, and hands the tour its URL through
// SIGNIN (the tour's default is http://127.0.0.1:8080). Each block's answers are checked, so the
// tour fails here as soon as a reader's paste would.
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENV_VARS } from "../src/config.js";

const root = join(import.meta.dirname, "..");
const COYOTE_ID = "507f191e810c19729de860ea";
const STEP_TIMEOUT_MS = 120_000; // a busy 2-core machine has taken 35 s to start the service from the sources
const MARK = "@@tour-block-end@@";

/** The ```sh blocks of the README's "## Five-minute tour" section, in order. */
export function tourBlocks(readme: string): string[] {
  const start = readme.indexOf("\n## Five-minute tour");
  if (start < 0) throw new Error('README.md has no "## Five-minute tour" section');
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** The variables of the block that is only `VAR=value ... npm start`, or null for any other block. */
function startLine(block: string): Record<string, string> | null {
  const m = /^((?:[A-Z][A-Z0-9_]*=\S*\s+)*)npm start\s*$/.exec(block.trim());
  if (!m) return null;
  return Object.fromEntries(m[1]!.trim().split(/\s+/).filter(Boolean).map((a) => [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]));
}

function runBash(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("bash", ["-euo", "pipefail", "-c", script], { cwd, env, timeout: STEP_TIMEOUT_MS, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

/** Starts the service from the sources in `cwd` (as `npm start` does, without the build) and waits for its URL. */
function startService(cwd: string, env: NodeJS.ProcessEnv): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "src", "main.ts")], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the service did not print its URL within ${STEP_TIMEOUT_MS} ms: ${out}`)), STEP_TIMEOUT_MS);
    const read = (d: Buffer) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) (clearTimeout(timer), resolve({ url: m[1]!, child }));
    };
    child.stdout!.on("data", read);
    child.stderr!.on("data", read);
    child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`the service exited with ${code}: ${out}`))));
  });
}

const json = (line: string | undefined) => JSON.parse(line ?? "null");

describe("the README's five-minute tour", () => {
  const blocks = tourBlocks(readFileSync(join(root, "README.md"), "utf8"));
  const startAt = blocks.findIndex((b) => startLine(b) !== null);
  let dir: string;
  let service: { url: string; child: ChildProcess } | undefined;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    const curl = spawnSync("curl", ["--version"]);
    if (curl.error || curl.status !== 0) throw new Error("the README tour test needs curl on the PATH (apt-get install curl)");
    if (!existsSync(join(root, "dist", "src", "clients", "node.js"))) throw new Error("dist/ is not built: run `npm ci` (or `npm run build`) first");
    dir = mkdtempSync(join(tmpdir(), "signin-tour-"));
    for (const f of ["package.json", "node_modules", "dist"]) symlinkSync(join(root, f), join(dir, f));
    // The reader's shell: none of the service's variables set, whatever this test process has.
    env = { ...process.env };
    for (const [name] of ENV_VARS) delete env[name];
    delete env.SIGNIN;
    delete env.NODE_OPTIONS;
  });

  afterAll(async () => {
    if (service && service.child.exitCode === null) {
      const exited = new Promise((r) => service!.child.once("exit", r));
      service.child.kill("SIGTERM");
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("has the blocks the test knows: files, the npm start line, then five steps", () => {
    expect(startAt, "a block that is only `VAR=value ... npm start`").toBeGreaterThan(0);
    expect(blocks.length - startAt - 1).toBe(5);
  });

  it("the blocks before npm start write the bootstrap file", { timeout: STEP_TIMEOUT_MS }, async () => {
    const res = await runBash(blocks.slice(0, startAt).join("\n"), dir, env);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const vars = startLine(blocks[startAt]!)!;
    expect(vars.SIGNIN_BOOTSTRAP, "npm start names the bootstrap file").toBeTruthy();
    expect(existsSync(join(dir, vars.SIGNIN_BOOTSTRAP!))).toBe(true);
  });

  it("starts with the npm start line's variables (on a free port)", { timeout: STEP_TIMEOUT_MS + 5_000 }, async () => {
    service = await startService(dir, { ...env, ...startLine(blocks[startAt]!)!, PORT: "0", LOG_LEVEL: "silent" });
    expect(service.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("each step answers as the README says", { timeout: STEP_TIMEOUT_MS + 5_000 }, async () => {
    expect(service, "the service started").toBeDefined();
    const steps = blocks.slice(startAt + 1);
    // One shell for all steps (they share variables and the cookie jar), a marker after each.
    const script = steps.map((b) => `${b}\nprintf '\\n${MARK}\\n'`).join("\n");
    const res = await runBash(script, dir, { ...env, SIGNIN: service!.url });
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const outputs = res.stdout.split(`${MARK}\n`).slice(0, steps.length).map((o) => o.split("\n").filter((l) => l.trim() !== ""));
    expect(outputs).toHaveLength(5);
    const [signIn, totp, secondStep, cosync, typed] = [outputs[0]!, outputs[1]!, outputs[2]!, outputs[3]!, outputs[4]!];

    // session.setCookie with a cookie jar, then user.info with the cookie.
    expect(json(signIn[0])).toStrictEqual({ ok: true, user: { id: COYOTE_ID } });
    expect(json(signIn[1])).toMatchObject({ ok: true, user: { id: COYOTE_ID, username: "coyote", mfaEnabled: false } });
    // totp.enroll (captured), totp.activate with the current code.
    expect(totp.map(json)).toStrictEqual([{ ok: true }]);
    // The password alone: second factor required; with the next step's code: signed in.
    expect(json(secondStep[0])).toMatchObject({ ok: false, error: { code: 10034, applicableAuthFactorTypes: ["TOTP"] } });
    expect(json(secondStep[1])).toStrictEqual({ ok: true, user: { id: COYOTE_ID } });
    // Cosync-style login: the app's RS256 jwt and an access-token.
    const tokens = json(cosync[0]);
    expect(Object.keys(tokens).sort()).toStrictEqual(["access-token", "device-token", "jwt"]); // device-token: issue 16
    const claims = JSON.parse(Buffer.from(tokens.jwt.split(".")[1], "base64url").toString());
    expect(claims).toMatchObject({ sub: "roadrunner@acme.com", aud: "acme" });
    expect(tokens["access-token"]).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    // The typed Node client over gRPC.
    expect(typed).toStrictEqual(["roadrunner@acme.com acme"]);
  });
});
