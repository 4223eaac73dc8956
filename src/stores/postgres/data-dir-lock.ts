// One process at a time in a PGlite data folder: two would each keep their own copy of the
// database in memory and overwrite each other's files (accounts silently lost on restart).
import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";

export const LOCK_FILE = "signin.lock";

export interface DataDirLock {
  release(): Promise<void>;
}

interface Holder {
  pid: number;
  host: string;
}

// Locks this process holds: a lock file naming our own pid that is not one of these was left by an
// earlier process that had the same pid (containers restart with the same pids).
const held = new Set<string>();

/** Creates `dir` when missing and takes its lock; throws a message for the operator when it cannot. */
export async function lockDataDir(dir: string): Promise<DataDirLock> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new Error(`DATA_DIR: cannot create the folder ${dir} (${reason(err)}); choose a folder this user can create and write, or set DATABASE_URL`);
  }
  const file = join(dir, LOCK_FILE);
  // Written whole under a private name, then linked into place: linking fails when the lock
  // exists (as O_EXCL does), and the lock never exists half-written.
  const mine = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
  try {
    await writeFile(mine, `${JSON.stringify({ pid: process.pid, host: os.hostname() } satisfies Holder)}\n`, { flag: "wx" });
  } catch (err) {
    throw new Error(`DATA_DIR: cannot write in ${dir} (${reason(err)}); choose a folder this user can write, or set DATABASE_URL`);
  }
  try {
    return await take(dir, file, mine);
  } finally {
    await unlink(mine).catch(() => {});
  }
}

async function take(dir: string, file: string, mine: string): Promise<DataDirLock> {
  // A few rounds: each either takes the lock, finds a live holder, or clears a stale lock and retries.
  for (let round = 0; round < 5; round++) {
    try {
      await link(mine, file);
      held.add(file);
      return { release: () => release(file) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new Error(`DATA_DIR: cannot create ${file} (${reason(err)}); choose a folder this user can write, or set DATABASE_URL`);
      }
    }
    const text = await readFile(file, "utf8").catch(() => null);
    if (text === null) continue; // removed meanwhile
    const holder = parse(text);
    if (holder && isAlive(holder, file)) {
      throw new Error(
        `DATA_DIR ${dir} is in use by process ${holder.pid}${holder.host === os.hostname() ? "" : ` on ${holder.host}`} (lock file ${file}); ` +
          `stop that process, or give this one another DATA_DIR or a DATABASE_URL. If no sign-in service is running there, delete the lock file`,
      );
    }
    // Left by a process that is gone. Checking and removing are two steps: another starter may
    // have taken the lock in between, so the file is moved aside, and put back if it changed.
    const aside = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
    try {
      await rename(file, aside);
    } catch {
      continue;
    }
    if ((await readFile(aside, "utf8").catch(() => text)) !== text) await link(aside, file).catch(() => {});
    await unlink(aside).catch(() => {});
  }
  throw new Error(`DATA_DIR ${dir}: could not take the lock file ${file}; another process keeps changing it`);
}

async function release(file: string): Promise<void> {
  if (!held.delete(file)) return;
  await unlink(file).catch(() => {});
}

function parse(text: string): Holder | null {
  try {
    const h = JSON.parse(text) as Holder;
    return Number.isInteger(h.pid) && h.pid > 0 && typeof h.host === "string" ? h : null;
  } catch {
    return null;
  }
}

function isAlive(holder: Holder, file: string): boolean {
  // Another machine's pids cannot be checked (a folder on a network share): held, to be safe.
  if (holder.host !== os.hostname()) return true;
  if (holder.pid === process.pid) return held.has(file);
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // alive, another user's
  }
}

const reason = (err: unknown) => {
  const e = err as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    ENOTDIR: "a part of the path is a file, not a folder",
    EEXIST: "a file of that name exists",
    EACCES: "permission denied",
    EPERM: "permission denied",
    EROFS: "read-only file system",
    ENOSPC: "no space left on the device",
  };
  return (e.code && why[e.code]) ?? e.message;
};
