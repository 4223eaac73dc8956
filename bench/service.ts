// Starts the built service in its own process for benchmarks (so the load generator does not
// share its event loop), on real Redis and PGlite (or DATABASE_URL), with seeded accounts.
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hash } from "@node-rs/argon2";
import { openDatabase } from "../src/stores/postgres/database.js";
import { migrate } from "../src/stores/postgres/migrations.js";
import { defaultApp } from "../src/core/apps/app.js";
import { PostgresAppStore } from "../src/stores/postgres/apps.js";
import { spawnService } from "../test/support/spawn.js";

export const PASSWORD = "correct horse battery staple";

export interface BenchService {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** The TOTP secret of every seeded account with a second factor. */
export const TOTP_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
export const COSYNC_APP_TOKEN = "bench-app-token-0123456789abcdef";

/**
 * Seeds the default app with user0..user{plain-1} (password only) and totp0..totp{totp-1} (with
 * TOTP), and a Cosync-style app "bench" (md5 prehash, google two-factor) with cosync0.. (TOTP).
 * Accounts share one argon2id hash per app: seeding costs no hashing per account.
 */
export async function seed(env: Record<string, string>, counts: { plain: number; totp: number; cosync: number }): Promise<void> {
  const db = await openDatabase({ url: env.DATABASE_URL || undefined, dataDir: env.DATA_DIR!, schema: env.DATABASE_SCHEMA! });
  try {
    await migrate(db);
    const apps = new PostgresAppStore(db);
    await apps.upsert(defaultApp("default"));
    await apps.upsert({ ...defaultApp("bench"), passwordPrehash: "md5", twoFactor: "google", appToken: COSYNC_APP_TOKEN });
    const params = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 } as never;
    const plainHash = await hash(PASSWORD, params);
    const md5Hash = await hash(createHash("md5").update(PASSWORD).digest("hex"), params);
    const rows: Array<[app: string, name: string, hash: string, totp: string | null]> = [];
    for (let i = 0; i < counts.plain; i++) rows.push(["default", `user${i}`, plainHash, null]);
    for (let i = 0; i < counts.totp; i++) rows.push(["default", `totp${i}`, plainHash, TOTP_SECRET]);
    for (let i = 0; i < counts.cosync; i++) rows.push(["bench", `cosync${i}@bench.io`, md5Hash, TOTP_SECRET]);
    for (let i = 0; i < rows.length; i += 500) {
      const values: string[] = [];
      const p: unknown[] = [];
      for (const [app, name, passwordHash, totp] of rows.slice(i, i + 500)) {
        const k = p.length;
        values.push(`($${k + 1}, $${k + 2}, $${k + 3}, $${k + 3}, $${k + 4}, $${k + 5})`);
        p.push(randomBytes(12).toString("hex"), app, name, passwordHash, totp);
      }
      await db.query(`INSERT INTO accounts (id, app_id, username, username_key, password_hash, totp_secret) VALUES ${values.join(",")}`, p);
    }
  } finally {
    await db.close();
  }
}

/** On a PostgreSQL server, the run's schema goes when the run ends (PGlite's folder is a temp dir). */
export async function dropBenchSchema(env: Record<string, string>): Promise<void> {
  if (!env.DATABASE_URL) return;
  const db = await openDatabase({ url: env.DATABASE_URL, dataDir: "", schema: env.DATABASE_SCHEMA! });
  await db.query(`DROP SCHEMA ${env.DATABASE_SCHEMA} CASCADE`).finally(() => db.close());
}

export function benchEnv(redisUrl: string): Record<string, string> {
  return {
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: mkdtempSync(join(tmpdir(), "signin-bench-")),
    DATABASE_SCHEMA: `bench_${randomBytes(4).toString("hex")}`,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: `bench:${randomBytes(4).toString("hex")}:`,
    // Clients arrive through a local proxy, so X-Forwarded-For tells them apart.
    TRUSTED_PROXIES: "127.0.0.1/32",
    LOG_LEVEL: "warn",
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
  };
}

/** The package.json "start" script: how `npm start` launches the service (its variables and node options). */
export const npmStartLine = () => (JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> }).scripts.start!;

/** `VAR=value ... node [options] entry`: the variables and node's arguments (no quoting: none is needed). */
export function launchLine(line: string): { env: Record<string, string>; args: string[] } {
  const words = line.trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (words[0] && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) {
    const word = words.shift()!;
    env[word.slice(0, word.indexOf("="))] = word.slice(word.indexOf("=") + 1);
  }
  if (words.shift() !== "node" || words.length === 0) throw new Error(`not a "VAR=value ... node [options] entry" line: ${line}`);
  return { env, args: words };
}

/**
 * Launched as `npm start` launches it (BENCH_START, in the same form, to compare another line, e.g.
 * "node dist/src/main.js"). PROF=<dir> writes the service's CPU profile there (node --cpu-prof) when it stops.
 */
export async function startBenchService(env: Record<string, string>): Promise<BenchService> {
  const launch = launchLine(process.env.BENCH_START ?? npmStartLine());
  const prof = process.env.PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.PROF}`] : [];
  const svc = await spawnService({ ...process.env, ...launch.env, ...env }, [...prof, ...launch.args]);
  return { url: svc.url, pid: svc.child.pid!, stop: async () => void (await svc.stop()) };
}
