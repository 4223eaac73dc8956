// The admin core over PGlite in memory and the memory store, no server: for fast tests of what
// operators do (as test/admin.rules.test.ts builds it). `close` ends it.
import { Admin } from "../../src/core/admin/admin.js";
import { defaultApp } from "../../src/core/apps/app.js";
import { loggerAudit, RecentAudit } from "../../src/core/audit.js";
import { ManualClock } from "../../src/core/clock.js";
import type { Failure, Result } from "../../src/core/failure.js";
import { PasswordHasher } from "../../src/core/password/hasher.js";
import { Revocations } from "../../src/core/sessions/revocations.js";
import { SessionList } from "../../src/core/sessions/session-list.js";
import { SessionRecords } from "../../src/core/sessions/session-records.js";
import { Sealer } from "../../src/core/secrets/sealer.js";
import { AppKeys } from "../../src/core/tokens/app-tokens.js";
import { KeyRing } from "../../src/core/tokens/key-ring.js";
import { MemoryEphemeralStore } from "../../src/stores/memory/ephemeral.js";
import { PostgresAccountStore } from "../../src/stores/postgres/accounts.js";
import { PostgresAppStore } from "../../src/stores/postgres/apps.js";
import { openDatabase } from "../../src/stores/postgres/database.js";
import { PostgresKeyStore } from "../../src/stores/postgres/keys.js";
import { migrate } from "../../src/stores/postgres/migrations.js";
import { uniqueName } from "./service.js";

const silent = { info() {}, warn() {}, error() {} };

export async function adminCore() {
  const db = await openDatabase({ dataDir: "memory://", schema: uniqueName("admin") });
  await migrate(db);
  const clock = new ManualClock();
  const store = new MemoryEphemeralStore(clock);
  const apps = new PostgresAppStore(db);
  const accounts = new PostgresAccountStore(db, new Sealer(null));
  const keys = new PostgresKeyStore(db, new Sealer(null));
  // Cheap argon2 parameters: the rules are under test, not the hashing cost.
  const hasher = new PasswordHasher({ memoryKiB: 1024, iterations: 1, parallelism: 1 });
  await apps.upsert(defaultApp("default"));
  const revocations = new Revocations(store, clock, 3600_000);
  const recentAudit = new RecentAudit(loggerAudit(silent), store, clock, silent);
  const admin = new Admin({
    apps,
    accounts,
    hasher,
    appKeys: new AppKeys(keys),
    serviceKeys: await KeyRing.load(keys, "session", "EdDSA"),
    revocations,
    recentAudit,
    sessionList: new SessionList(new SessionRecords(store), revocations, recentAudit, clock, null),
    defaultAppId: "default",
    serviceKeyGraceMs: 60_000,
    totpIssuer: "Tests",
  });
  const close = async () => {
    await store.close();
    await db.close();
  };
  return { admin, apps, accounts, hasher, clock, db, revocations, recentAudit, close };
}

export function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`expected success, got ${r.failure.reason}: ${r.failure.message}`);
  return r.value;
}

export function failure<T>(r: Result<T>): Failure {
  if (r.ok) throw new Error("expected a failure");
  return r.failure;
}
