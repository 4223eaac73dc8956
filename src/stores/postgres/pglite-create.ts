// Creating a PGlite database (initdb) in a child process. PGlite never gives back the memory its
// initdb used (a new database left the service at ~800 MiB, opening an existing one at ~290 MiB):
// a child that exits takes it with it, and the service only ever opens an existing database.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { access, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { PGlite } from "@electric-sql/pglite";

/**
 * PGlite's own start parameters, with a smaller buffer cache: its default 128 MB is touched whole at
 * start (~130 MiB resident) while a sign-in database works in a few MB; pages not cached are read from
 * the data folder's files (the system's cache) or, on memory://, from PGlite's in-memory files.
 */
export const PGLITE_START_PARAMS = [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"];

/** Whether `folder` holds a database (PGlite's own test). */
export const hasDatabase = (folder: string) =>
  access(join(folder, "PG_VERSION")).then(
    () => true,
    () => false,
  );

// The child: plain CommonJS given to `node -e`, so it runs the same from the build and from the sources.
const CHILD = `
const { PGlite } = require(process.argv[1]);
const [dir, image] = [process.argv[2], process.argv[3] === "image"];
(async () => {
  const db = await PGlite.create(dir || undefined);
  // gzip (fastest level): 40 MB of tar, mostly an empty WAL segment and zeroed pages, is ~5 MB.
  const tar = image && require("node:zlib").gzipSync(Buffer.from(await (await db.dumpDataDir("none")).arrayBuffer()), { level: 1 });
  await db.close();
  // A pipe is written asynchronously: exiting before the callback would cut the image short.
  if (tar) await new Promise((written) => process.stdout.write(tar, written));
})().then(() => process.exit(0), (err) => (process.stderr.write(String(err && err.message || err)), process.exit(1)));
`;

/** PGlite's entry file, for the child to require and to find node_modules by. */
const pgliteEntry = () => createRequire(import.meta.url).resolve("@electric-sql/pglite");

function runChild(args: string[], where: string): Promise<Buffer> {
  const child = spawn(process.execPath, ["-e", CHILD, pgliteEntry(), ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const out: Buffer[] = [];
  let err = "";
  child.stdout.on("data", (d: Buffer) => out.push(d));
  child.stderr.on("data", (d: Buffer) => (err += d));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) =>
      code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`DATA_DIR: creating the embedded database ${where} failed (${signal ?? `exit code ${code}`}): ${err.trim().slice(0, 500)}`)),
    );
  });
}

/** Creates a database in `folder` (held locked by the caller). */
export async function createInFolder(folder: string): Promise<void> {
  await runChild([folder], `in ${folder}`);
}

// A new database's image is made once per process: every memory:// database starts from the same
// empty one (a process that opens several, as the tests do, pays one child, not one each). It is kept
// gzipped (~5 MB instead of ~40): PGlite unpacks it into its in-memory files at each open. It is also
// kept on disk for the next processes (each test file, each memory:// start): reading 5 MB instead of
// running initdb, ~7 s of CPU on a 2-core machine.
let image: Promise<Blob> | null = null;

/** A new database as a gzipped tar image, for PGlite's `loadDataDir` (memory://). */
export async function createDatabaseImage(): Promise<Blob> {
  image ??= cachedImage().then((gz) => new Blob([gz as Uint8Array<ArrayBuffer>], { type: "application/x-gzip" }));
  image.catch(() => (image = null)); // a failed child is tried again at the next start
  return image;
}

/**
 * Where the image is kept: the project's node_modules/.cache/signin, as build tools keep theirs (not a
 * temporary folder another user could write to: whoever can write there can change the code anyway),
 * named by PGlite's version, since another version makes another database.
 */
export function imageCacheFile(): string {
  const entry = pgliteEntry();
  const modules = entry.slice(0, entry.lastIndexOf("node_modules") + "node_modules".length);
  const { version } = JSON.parse(readFileSync(join(modules, "@electric-sql", "pglite", "package.json"), "utf8")) as { version: string };
  return join(modules, ".cache", "signin", `pglite-${version}-new-database.tar.gz`);
}

async function cachedImage(): Promise<Buffer> {
  const file = imageCacheFile();
  const kept = await readFile(file).catch(() => null);
  if (kept) return kept;
  const made = await runChild(["", "image"], "in memory");
  // Written whole, then renamed into place: another process reads all of it or nothing. Best effort.
  const partial = `${file}.${process.pid}.tmp`;
  await mkdir(dirname(file), { recursive: true })
    .then(() => writeFile(partial, made))
    .then(() => rename(partial, file))
    .catch(() => {});
  return made;
}
