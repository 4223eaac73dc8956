// One contract per store interface, run on every implementation: the EphemeralStore on the
// in-process map and on real Redis; the PostgreSQL stores on PGlite and, with DATABASE_URL,
// on the real server.
import { inject } from "vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LoginTaken, loginKey } from "../src/core/accounts/account.js";
import { defaultApp } from "../src/core/apps/app.js";
import { ManualClock } from "../src/core/clock.js";
import type { EphemeralStore } from "../src/core/ephemeral.js";
import { Sealer } from "../src/core/secrets/sealer.js";
import type { StoredKey } from "../src/core/tokens/key-ring.js";
import { MemoryEphemeralStore } from "../src/stores/memory/ephemeral.js";
import { PostgresAccountStore } from "../src/stores/postgres/accounts.js";
import { PostgresAppStore } from "../src/stores/postgres/apps.js";
import { openDatabase, type Database } from "../src/stores/postgres/database.js";
import { PostgresKeyStore } from "../src/stores/postgres/keys.js";
import { migrate } from "../src/stores/postgres/migrations.js";
import { RedisEphemeralStore } from "../src/stores/redis/ephemeral.js";
import { uniqueName } from "./support/service.js";

interface EphemeralCase {
  store: EphemeralStore;
  /** Lets `ms` pass for the store's expiry (moves the clock, or waits for Redis's own). */
  expire(ms: number, key: string): Promise<void>;
}

const ephemeralBackends: Array<[string, () => EphemeralCase]> = [
  [
    "memory",
    () => {
      const clock = new ManualClock();
      return { store: new MemoryEphemeralStore(clock), expire: async (ms) => clock.advance(ms + 1) };
    },
  ],
  [
    "redis",
    () => {
      const store = new RedisEphemeralStore(inject("redisUrl"), `${uniqueName("contract")}:`);
      return {
        store,
        // Redis expires by its own clock: poll (bounded) until the key is gone.
        expire: async (_ms, key) => {
          for (let i = 0; i < 200 && (await store.get(key)) !== null; i++) await new Promise((r) => setTimeout(r, 10));
        },
      };
    },
  ],
];

describe.each(ephemeralBackends)("EphemeralStore contract: %s", (_name, make) => {
  let c: EphemeralCase;
  beforeAll(async () => {
    c = make();
    if (c.store instanceof RedisEphemeralStore) await c.store.ready();
  });
  afterAll(() => c.store.close());

  it("set, get, delete", async () => {
    await c.store.set("a", "1", 60_000);
    expect(await c.store.get("a")).toBe("1");
    await c.store.delete("a");
    expect(await c.store.get("a")).toBeNull();
  });

  it("entries expire after their TTL", async () => {
    await c.store.set("ttl", "x", 50);
    await c.expire(50, "ttl");
    expect(await c.store.get("ttl")).toBeNull();
  });

  it("take returns the value once; of 20 concurrent takes exactly one gets it", async () => {
    await c.store.set("once", "v", 60_000);
    expect(await c.store.take("once")).toBe("v");
    expect(await c.store.take("once")).toBeNull();
    await c.store.set("race", "v", 60_000);
    const got = await Promise.all(Array.from({ length: 20 }, () => c.store.take("race")));
    expect(got.filter((v) => v === "v")).toHaveLength(1);
  });

  it("advance accepts only increasing values; of 20 concurrent equal advances exactly one wins", async () => {
    expect(await c.store.advance("step", 5, 60_000)).toBe(true);
    expect(await c.store.advance("step", 5, 60_000)).toBe(false);
    expect(await c.store.advance("step", 4, 60_000)).toBe(false);
    expect(await c.store.advance("step", 6, 60_000)).toBe(true);
    const wins = await Promise.all(Array.from({ length: 20 }, () => c.store.advance("step-race", 7, 60_000)));
    expect(wins.filter(Boolean)).toHaveLength(1);
  });

  it("increment counts from 1, concurrently without losing counts, and the count expires", async () => {
    const counts = await Promise.all(Array.from({ length: 20 }, () => c.store.increment("count", 50)));
    expect([...counts].sort((a, b) => a - b)).toStrictEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await c.expire(50, "count");
    expect(await c.store.increment("count", 60_000)).toBe(1);
  });

  it("replace sets only an existing key: a deleted key is never brought back", async () => {
    expect(await c.store.replace("absent", "x", 60_000)).toBe(false);
    expect(await c.store.get("absent")).toBeNull();
    await c.store.set("present", "1", 60_000);
    expect(await c.store.replace("present", "2", 60_000)).toBe(true);
    expect(await c.store.get("present")).toBe("2");
  });

  it("member sets: each member ends at its own time, the set is capped (those ending first go), members can be removed", async () => {
    const now = 1_000_000;
    await c.store.addMember("set", "early", now + 10, now, 3);
    await c.store.addMember("set", "late", now + 60_000, now, 3);
    expect((await c.store.members("set", now)).sort()).toStrictEqual(["early", "late"]);
    expect(await c.store.members("set", now + 10)).toStrictEqual(["late"]);
    for (const [m, end] of [["a", 20_000], ["b", 30_000], ["c", 40_000]] as const) await c.store.addMember("set", m, now + end, now, 3);
    expect((await c.store.members("set", now)).sort()).toStrictEqual(["b", "c", "late"]);
    await c.store.removeMember("set", "late");
    expect((await c.store.members("set", now)).sort()).toStrictEqual(["b", "c"]);
  });
});

describe("RedisEphemeralStore: key prefixes isolate deployments", () => {
  it("stores with different prefixes on one Redis do not see each other", async () => {
    const a = new RedisEphemeralStore(inject("redisUrl"), `${uniqueName("a")}:`);
    const b = new RedisEphemeralStore(inject("redisUrl"), `${uniqueName("b")}:`);
    try {
      await Promise.all([a.ready(), b.ready()]);
      await a.set("k", "from-a", 60_000);
      expect(await b.get("k")).toBeNull();
      expect(await a.get("k")).toBe("from-a");
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

const postgresBackends: Array<[string, (schema: string) => Promise<Database>]> = [
  ["PGlite", (schema) => openDatabase({ dataDir: "memory://", schema })],
  ...(process.env.DATABASE_URL
    ? [["PostgreSQL server", (schema: string) => openDatabase({ url: process.env.DATABASE_URL, dataDir: "", schema })] as [string, (schema: string) => Promise<Database>]]
    : []),
];

describe.each(postgresBackends)("PostgreSQL stores contract: %s", (name, open) => {
  const schema = uniqueName("contract");
  let db: Database;
  beforeAll(async () => {
    db = await open(schema);
  });
  afterAll(async () => {
    if (name !== "PGlite") await db.query(`DROP SCHEMA ${schema} CASCADE`);
    await db.close();
  });

  it("migrate applies every step once", async () => {
    expect(await migrate(db)).toBeGreaterThan(0);
    expect(await migrate(db)).toBe(0);
  });

  it("accounts: upsert, find by id and by login (case-insensitive, NFKC), per app", async () => {
    const apps = new PostgresAppStore(db);
    await apps.upsert(defaultApp("one"));
    await apps.upsert(defaultApp("two"));
    const accounts = new PostgresAccountStore(db, new Sealer(null));
    const a = await accounts.upsert({ appId: "one", username: "Coyote", email: "Coyote@Acme.com", passwordHash: "h1" });
    expect(a.id).toMatch(/^[0-9a-f]{24}$/);
    expect((await accounts.findById(a.id))?.username).toBe("Coyote");
    for (const login of ["coyote", "COYOTE@acme.com", "\uff43oyote"]) expect((await accounts.findByLogin("one", loginKey(login)))?.id).toBe(a.id);
    expect(await accounts.findByLogin("two", "coyote")).toBeNull();

    // The same username in another app is another account; in the same app it is refused.
    const other = await accounts.upsert({ appId: "two", username: "coyote", email: null, passwordHash: "h2" });
    expect(other.id).not.toBe(a.id);
    await expect(accounts.upsert({ appId: "one", username: "COYOTE", email: null, passwordHash: "h3" })).rejects.toBeInstanceOf(LoginTaken);

    // A login that is one account's username and another's email finds the username's account.
    const odd = await accounts.upsert({ appId: "one", username: "roadrunner@acme.com", email: null, passwordHash: "h6" });
    const byMail = await accounts.upsert({ appId: "one", username: "rr", email: "roadrunner@acme.com", passwordHash: "h7" });
    expect((await accounts.findByLogin("one", "roadrunner@acme.com"))?.id).toBe(odd.id);
    expect((await accounts.findByLogin("one", "rr"))?.id).toBe(byMail.id);

    // Upsert of the same id updates in place.
    await accounts.upsert({ id: a.id, appId: "one", username: "Coyote", email: "coyote@acme.com", passwordHash: "h4", metadata: { r: 1 } });
    expect((await accounts.findById(a.id))?.passwordHash).toBe("h4");
    expect((await db.query<{ n: number }>("SELECT count(*)::int AS n FROM accounts WHERE app_id = 'one'"))[0]?.n).toBe(3);

    await accounts.setPasswordHash(a.id, "h5");
    await accounts.setTotpSecret(a.id, "JBSWY3DPEHPK3PXP");
    await accounts.setPhone(a.id, { phone: "+15555550100", phoneVerified: true, phoneTwoFactor: true });
    expect(await accounts.findById(a.id)).toMatchObject({
      passwordHash: "h5",
      totpSecret: "JBSWY3DPEHPK3PXP",
      phone: "+15555550100",
      phoneVerified: true,
      phoneTwoFactor: true,
      metadata: { r: 1 },
    });
  });

  it("apps: found by the hash of their token only; an empty token never matches", async () => {
    const apps = new PostgresAppStore(db);
    await apps.upsert({ ...defaultApp("tok"), appToken: "a-long-app-token-value" });
    const { appTokenHash } = await import("../src/core/apps/app.js");
    expect((await apps.findByTokenHash(appTokenHash("a-long-app-token-value")))?.id).toBe("tok");
    expect(await apps.findByTokenHash(appTokenHash(""))).toBeNull();
    const stored = await db.query<{ app_token_hash: string }>("SELECT app_token_hash FROM apps WHERE id = 'tok'");
    expect(stored[0]?.app_token_hash).not.toContain("a-long-app-token-value");
  });

  it("keys: loadOrCreate makes one key, then returns it; concurrent first calls agree on one", async () => {
    const keys = new PostgresKeyStore(db, new Sealer(null));
    let made = 0;
    const generate = async (): Promise<StoredKey> => ({
      kid: `k${++made}-${Math.random()}`,
      alg: "EdDSA",
      publicJwk: { kty: "OKP", crv: "Ed25519", x: "x" },
      privateJwk: { kty: "OKP", crv: "Ed25519", x: "x", d: "d" },
      createdAt: new Date(),
    });
    const first = await keys.loadOrCreate("p1", generate);
    const second = await keys.loadOrCreate("p1", generate);
    expect(first).toHaveLength(1);
    expect(second.map((k) => k.kid)).toStrictEqual(first.map((k) => k.kid));
    expect(made).toBe(1);

    const all = await Promise.all(Array.from({ length: 5 }, () => keys.loadOrCreate("p2", generate)));
    expect(new Set(all.map((r) => r.map((k) => k.kid).join()))).toHaveProperty("size", 1);
    expect((await db.query<{ n: number }>("SELECT count(*)::int AS n FROM signing_keys WHERE purpose = 'p2'"))[0]?.n).toBe(1);
  });
});
