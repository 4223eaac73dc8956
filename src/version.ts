// The service's version, read from package.json (the one place it is written): --version, the
// OpenAPI documents and anything else that reports it agree.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** package.json's version, found upwards from this file (src/ under tsx, dist/src/ when built). */
function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file)) return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
    if (dirname(dir) === dir) return "unknown";
  }
}

export const VERSION = packageVersion();
