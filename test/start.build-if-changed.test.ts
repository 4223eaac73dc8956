// `npm start` builds only when the sources changed (scripts/build.mjs --if-changed), and never runs
// stale code: checked with this package.json and build script on a small project in a temp dir.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
let dir: string;

function write(path: string, text: string): void {
  mkdirSync(join(dir, path, ".."), { recursive: true });
  writeFileSync(join(dir, path), text);
}

function npmStart(): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync("npm", ["start", "--silent", "--", "--version"], { cwd: dir, encoding: "utf8", env: { ...process.env, npm_config_update_notifier: "false" } });
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
}

const mtime = (path: string) => statSync(join(dir, path)).mtimeMs;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "signin-start-"));
  for (const f of ["package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json", "scripts/build.mjs"]) cpSync(join(root, f), join(dir, f));
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
  write("src/main.ts", `console.log("one", process.argv.slice(2).join(" "));\n`);
  write("src/web/app.ts", `/// <reference lib="dom" />\ndocument.title = "x";\n`);
  write("gen/x.ts", `export const x = 1;\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("npm start", () => {
  it("builds when dist/ is missing, then not again while the sources are unchanged", () => {
    const first = npmStart();
    expect(first).toMatchObject({ status: 0, stdout: "one --version" });
    expect(first.stderr).toContain("Sources changed since the last build");
    expect(existsSync(join(dir, "dist/web/app.js"))).toBe(true);
    const built = mtime("dist/src/main.js");

    const second = npmStart();
    expect(second).toMatchObject({ status: 0, stdout: "one --version", stderr: "" });
    expect(mtime("dist/src/main.js")).toBe(built);
  });

  it("rebuilds after a new file in gen/", () => {
    write("gen/y.ts", `export const y = 2;\n`);
    expect(npmStart()).toMatchObject({ status: 0, stdout: "one --version" });
    expect(readFileSync(join(dir, "dist/gen/y.d.ts"), "utf8")).toContain("y = 2");
  });

  it("rebuilds after an edit in src/; a failed build starts nothing and is tried again next time", () => {
    write("src/main.ts", `const n: number = "three";\nconsole.log(n);\n`);
    const failed = npmStart();
    expect(failed.status).not.toBe(0);
    expect(failed.stdout).not.toContain("one");
    expect(failed.stdout + failed.stderr).toContain("TS2322");
    write("src/main.ts", `console.log("four");\n`);
    expect(npmStart()).toMatchObject({ status: 0, stdout: "four" });
  });
});
