// gen/ is committed: it must be exactly what `buf generate` makes from proto/, and
// proto/ must pass `buf lint`.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const env = { ...process.env, PATH: `${join(root, "node_modules/.bin")}:${process.env.PATH}` };
const buf = (...args: string[]) => spawnSync(join(root, "node_modules/.bin/buf"), args, { cwd: root, env, encoding: "utf8" });

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p, "utf8"));
    }
  };
  walk(dir);
  return out;
}

describe("proto/ and gen/", () => {
  it("gen/ is what buf generate makes from proto/ (run `npm run generate` and commit)", () => {
    const out = mkdtempSync(join(tmpdir(), "signin-gen-"));
    const run = buf("generate", "--output", out);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const fresh = files(join(out, "gen"));
    const committed = files(join(root, "gen"));
    expect([...committed.keys()].sort()).toStrictEqual([...fresh.keys()].sort());
    for (const [path, text] of fresh) expect(committed.get(path), path).toBe(text);
  });

  it("buf lint passes", () => {
    const run = buf("lint");
    expect(run.stdout + run.stderr).toBe("");
    expect(run.status).toBe(0);
  });
});
