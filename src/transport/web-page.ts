// The sign-in page at `/`: index.html from src/web and its script bundle, built by esbuild
// into dist/web/app.js (`npm run build`). Read once, served with a strict CSP.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Req, Res } from "./legacy/http.js";

const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

export function webPage(): (req: Req, res: Res, path: string) => boolean {
  const root = packageRoot();
  let files: Record<string, { type: string; body: Buffer }> | undefined;
  const load = () =>
    (files ??= {
      "/": { type: "text/html; charset=utf-8", body: readFileSync(join(root, "src/web/index.html")) },
      "/app.js": {
        type: "text/javascript; charset=utf-8",
        body: existsSync(join(root, "dist/web/app.js"))
          ? readFileSync(join(root, "dist/web/app.js"))
          : Buffer.from('document.getElementById("message").textContent = "The page script is not built: run npm run build.";'),
      },
    });
  return (req, res, path) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const file = load()[path === "/index.html" ? "/" : path];
    if (!file) return false;
    res.writeHead(200, { "content-type": file.type, "content-length": file.body.length, "cache-control": "no-cache", ...SECURITY_HEADERS });
    if (req.method === "HEAD") res.end();
    else res.end(file.body);
    return true;
  };
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("package.json not found above " + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}
