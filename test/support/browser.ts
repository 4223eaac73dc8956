// Debian's Chromium driven by playwright-core, for the browser tests: the page built as
// `npm run build:web` builds it, screenshots under test/artifacts/ (git-ignored).
import { build } from "esbuild";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const root = join(import.meta.dirname, "..", "..");
export const artifacts = join(root, "test/artifacts");
export const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`\n!!! ${CHROMIUM} is missing: the browser tests are SKIPPED (apt-get install chromium; .ci/run does) !!!\n`);

/** The sign-in page's bundle, as `npm run build:web` makes it. */
export async function buildPage(): Promise<void> {
  await build({ entryPoints: [join(root, "src/web/app.ts")], bundle: true, format: "esm", target: "es2022", outfile: join(root, "dist/web/app.js"), logLevel: "silent" });
  mkdirSync(artifacts, { recursive: true });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}
