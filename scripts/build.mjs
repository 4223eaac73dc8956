// `npm run build` (tsc -> dist/ with declarations, esbuild -> dist/web/app.js), and with --if-changed
// (`npm start`) the same build only when the sources differ from the ones dist/ was built from.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";

const root = process.cwd();
const STAMP = join(root, "dist", ".sources-hash");
// Everything the output depends on: a content hash, not mtimes, so a checkout, a copy or a clock
// skew can neither hide an edit nor force a needless build.
const INPUT_DIRS = ["src", "gen"];
const INPUT_FILES = ["tsconfig.json", "tsconfig.build.json", "package-lock.json", "scripts/build.mjs"];
const OUTPUTS = ["dist/src/main.js", "dist/web/app.js"];

function files(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

function sourcesHash() {
  const h = createHash("sha256");
  const paths = [...INPUT_DIRS.flatMap((d) => files(join(root, d))), ...INPUT_FILES.map((f) => join(root, f))].sort();
  for (const p of paths) h.update(`${relative(root, p)}\0`).update(existsSync(p) ? readFileSync(p) : "(missing)").update("\0");
  return h.digest("hex");
}

function run(bin, args) {
  const r = spawnSync(join(root, "node_modules", ".bin", bin), args, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const hash = sourcesHash();
const upToDate = existsSync(STAMP) && readFileSync(STAMP, "utf8") === hash && OUTPUTS.every((o) => existsSync(join(root, o)));
if (process.argv.includes("--if-changed") && upToDate) process.exit(0);
if (process.argv.includes("--if-changed")) console.error("Sources changed since the last build: building dist/ ...");
// A failed or interrupted build must not leave a stamp that vouches for a half-written dist/.
rmSync(STAMP, { force: true });
run("tsc", ["-p", "tsconfig.build.json"]);
run("esbuild", ["src/web/app.ts", "--bundle", "--format=esm", "--minify", "--target=es2022", "--outfile=dist/web/app.js", "--log-level=warning"]);
writeFileSync(STAMP, hash);
