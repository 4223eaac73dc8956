// memory:// databases start from one image of a new database per process (pglite-create.ts), kept
// gzipped: a tar of a new database is ~40 MB (mostly an empty WAL segment and zeroed pages) that the
// service held whole, next to PGlite's own copy of the files, for as long as it ran (issue 18's memory).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../src/stores/postgres/database.js";
import { createDatabaseImage, imageCacheFile } from "../src/stores/postgres/pglite-create.js";

describe("the memory:// database image", () => {
  it("is held gzipped, under 10 MB, and made once per process", async () => {
    const image = await createDatabaseImage();
    expect(image.type).toBe("application/x-gzip");
    expect(image.size).toBeLessThan(10 << 20);
    const bytes = new Uint8Array(await image.slice(0, 2).arrayBuffer());
    expect([...bytes]).toStrictEqual([0x1f, 0x8b]); // gzip's magic number
    expect(await createDatabaseImage()).toBe(image);
  });

  it("is kept on disk: the next process reads it and starts no child (no initdb)", async () => {
    const image = await createDatabaseImage();
    expect(existsSync(imageCacheFile())).toBe(true);
    expect(readFileSync(imageCacheFile()).length).toBe(image.size);
    // A fresh process whose child_process.spawn throws still gets the image.
    const script = `
      const cp = require("node:child_process");
      cp.spawn = () => { throw new Error("spawned a child"); };
      require("node:module").syncBuiltinESMExports();
      import("./src/stores/postgres/pglite-create.ts").then(async (m) => console.log((await m.createDatabaseImage()).size));`;
    const out = execFileSync(process.execPath, ["--import", "tsx", "-e", script], { encoding: "utf8" });
    expect(Number(out.trim())).toBe(image.size);
  });

  it("opens as a working database, each memory:// database its own", { timeout: 60_000 }, async () => {
    const [a, b] = [await openDatabase({ dataDir: "memory://", schema: "image_a" }), await openDatabase({ dataDir: "memory://", schema: "image_a" })];
    try {
      await a.query("CREATE TABLE t (v integer)");
      await a.query("INSERT INTO t VALUES (1), (2)");
      expect(await a.query<{ n: number }>("SELECT count(*)::int AS n FROM t")).toStrictEqual([{ n: 2 }]);
      expect(await b.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'image_a'")).toStrictEqual([{ n: 0 }]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
