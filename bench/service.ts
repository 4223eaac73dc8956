// Starts the built service in its own process for benchmarks (so the load generator does not
// share its event loop), on real Redis and PGlite (or DATABASE_URL), with seeded accounts.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
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

/** Seeds `users` accounts (user0..userN-1) sharing one argon2id hash of PASSWORD. */
export async function seed(env: Record<string, string>, users: number): Promise<void> {
  const db = await openDatabase({ url: env.DATABASE_URL || undefined, dataDir: env.DATA_DIR!, schema: env.DATABASE_SCHEMA! });
  try {
    await migrate(db);
    await new PostgresAppStore(db).upsert(defaultApp("default"));
    const passwordHash = await hash(PASSWORD, { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 } as never);
    for (let i = 0; i < users; i += 500) {
      const values: string[] = [];
      const params: unknown[] = [];
      for (let j = i; j < Math.min(users, i + 500); j++) {
        const k = params.length;
        values.push(`($${k + 1}, 'default', $${k + 2}, $${k + 2}, $${k + 3})`);
        params.push(randomBytes(12).toString("hex"), `user${j}`, passwordHash);
      }
      await db.query(`INSERT INTO accounts (id, app_id, username, username_key, password_hash) VALUES ${values.join(",")}`, params);
    }
  } finally {
    await db.close();
  }
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

export async function startBenchService(env: Record<string, string>): Promise<BenchService> {
  const svc = await spawnService({ ...process.env, ...env }, ["dist/src/main.js"]);
  return { url: svc.url, pid: svc.child.pid!, stop: async () => void (await svc.stop()) };
}
