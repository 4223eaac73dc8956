// Starts the real service for a test: real Redis (namespaced keys), PGlite in memory or the
// PostgreSQL server of DATABASE_URL (a fresh schema), an injected clock, no logs.
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inject } from "vitest";
import { loadConfig, type Config } from "../../src/config.js";
import { ManualClock } from "../../src/core/clock.js";
import type { Logger } from "../../src/core/logger.js";
import { startService, type Service } from "../../src/service.js";
import { openDatabase, type Database } from "../../src/stores/postgres/database.js";

export const COYOTE = {
  id: "507f191e810c19729de860ea",
  username: "coyote",
  email: "coyote@acme.com",
  password: "catch-the-b1rd$",
  fullName: "Wile E. Coyote",
  permissions: ["user.read"],
};
// RFC 6238's test key in base32 ("12345678901234567890").
export const TOTP_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
export const ROADRUNNER = {
  id: "5f1a2b3c4d5e6f7a8b9c0d1e",
  username: "roadrunner",
  email: "roadrunner@acme.com",
  password: "meep-meep-42",
  fullName: "Road Runner",
  totpSecret: TOTP_SECRET,
};

export interface TestService extends Service {
  clock: ManualClock;
  config: Config;
  logs: Array<Record<string, unknown>>;
}

export const uniqueName = (prefix: string) => `${prefix}_${randomBytes(6).toString("hex")}`;

export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: "0",
    DATA_DIR: "memory://",
    REDIS_URL: inject("redisUrl"),
    REDIS_KEY_PREFIX: `${uniqueName("test")}:`,
    DATABASE_SCHEMA: uniqueName("t"),
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
    LOG_LEVEL: "silent",
    ...overrides,
  };
}

export function bootstrapFile(doc: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), "signin-")), "bootstrap.json");
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

export async function startTestService(
  overrides: Record<string, string> = {},
  users: unknown[] = [COYOTE, ROADRUNNER],
  apps: unknown[] = [],
  database?: Database,
): Promise<TestService> {
  const config = loadConfig(testEnv({ SIGNIN_BOOTSTRAP: bootstrapFile({ apps, users }), ...overrides }));
  const clock = new ManualClock();
  const logs: Array<Record<string, unknown>> = [];
  const record = (level: string) => (obj: object, msg?: string) => logs.push({ level, msg, ...obj });
  const log: Logger = { info: record("info"), warn: record("warn"), error: record("error") };
  const service = await startService(config, { clock, log, database });
  // On a shared PostgreSQL server, a schema this helper made up is dropped after the test.
  const close = async () => {
    await service.close();
    if (!overrides.DATABASE_SCHEMA && !database) await dropSharedSchema(config.databaseSchema);
  };
  return { ...service, close, clock, config, logs };
}

/**
 * `count` instances as behind a load balancer: one database (one PGlite in this process, or a
 * fresh schema on DATABASE_URL's server) and one Redis key prefix. `close` stops them all.
 */
export async function startTestInstances(count: number, overrides: Record<string, string> = {}, users?: unknown[], apps?: unknown[]) {
  const schema = uniqueName("t");
  const database = await openDatabase({ url: process.env.DATABASE_URL, dataDir: "memory://", schema });
  const env = { REDIS_KEY_PREFIX: `${uniqueName("shared")}:`, DATABASE_SCHEMA: schema, ...overrides };
  const instances: TestService[] = [];
  // One after the other: the first applies the bootstrap file, the others find it applied.
  for (let i = 0; i < count; i++) instances.push(await startTestService(env, users, apps, database));
  const close = async () => {
    for (const svc of instances) await svc.close();
    await database.close();
    await dropSharedSchema(schema);
  };
  return { instances, close };
}

/** With DATABASE_URL, drops a test's schema from the shared server (PGlite needs nothing). */
export async function dropSharedSchema(schema: string): Promise<void> {
  if (!process.env.DATABASE_URL) return;
  const db = await openDatabase({ url: process.env.DATABASE_URL, dataDir: "", schema });
  await db.query(`DROP SCHEMA ${schema} CASCADE`).finally(() => db.close());
}

/** POSTs JSON to a legacy path and returns status, headers and parsed body. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: JSON.parse(text) as any };
}
