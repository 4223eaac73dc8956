// The public JWKS is served from memory: many GETs cost one database query per JWKS_TTL_MS, not
// one each; a key rotated (or an app created) on this instance shows at once. Queries are counted
// on the real database (PGlite), not timed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveApp } from "../src/core/admin/apps.js";
import { defaultApp } from "../src/core/apps/app.js";
import { ManualClock } from "../src/core/clock.js";
import { Sealer } from "../src/core/secrets/sealer.js";
import { AppKeys } from "../src/core/tokens/app-tokens.js";
import { Jwks, JWKS_TTL_MS } from "../src/core/tokens/jwks.js";
import { KeyRing } from "../src/core/tokens/key-ring.js";
import { PostgresAppStore } from "../src/stores/postgres/apps.js";
import { openDatabase, type Database } from "../src/stores/postgres/database.js";
import { PostgresKeyStore } from "../src/stores/postgres/keys.js";
import { migrate } from "../src/stores/postgres/migrations.js";
import { uniqueName } from "./support/service.js";

describe("JWKS cache", () => {
  let raw: Database;
  let queries = 0;
  beforeAll(async () => {
    raw = await openDatabase({ url: process.env.DATABASE_URL, dataDir: "memory://", schema: uniqueName("jwks") });
    await migrate(raw);
  });
  afterAll(async () => {
    if (process.env.DATABASE_URL) await raw.query(`DROP SCHEMA ${(await raw.query<{ s: string }>("SELECT current_schema() AS s"))[0]!.s} CASCADE`);
    await raw.close();
  });

  it("N GETs: one query; a rotation or a new app shows at once; after the TTL, built again", async () => {
    // The same database, counting every statement and transaction the stores run.
    const db: Database = {
      query: (text, params) => (queries++, raw.query(text, params)),
      transaction: (fn) => raw.transaction((tx) => fn({ query: (text, params) => (queries++, tx.query(text, params)) })),
      close: () => raw.close(),
    };
    const apps = new PostgresAppStore(db);
    const keyStore = new PostgresKeyStore(db, new Sealer(null));
    const appKeys = new AppKeys(keyStore);
    const serviceKeys = await KeyRing.load(keyStore, "session", "EdDSA");
    await saveApp({ apps, appKeys }, { ...defaultApp("default"), appToken: "default-app-token-0123456789" });
    await saveApp({ apps, appKeys }, { ...defaultApp("acme"), appToken: "acme-app-token-0123456789" });
    const clock = new ManualClock();
    const jwks = new Jwks(serviceKeys, appKeys, apps, keyStore, clock);
    const kids = async () => (await jwks.keys()).keys.map((k) => k.kid);

    queries = 0;
    const answers = await Promise.all(Array.from({ length: 10 }, () => jwks.keys()));
    for (let i = 0; i < 20; i++) answers.push(await jwks.keys());
    expect(queries).toBe(1); // listing the apps, once
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]!.keys).toHaveLength(3);

    // Rotations on this instance show in the next answer.
    const sessionKid = await serviceKeys.rotate(60_000);
    expect(await kids()).toContain(sessionKid);
    const appKid = await (await appKeys.ring("acme")).rotate(60_000);
    expect(await kids()).toEqual(expect.arrayContaining([sessionKid, appKid]));
    const ringOfNew = await saveApp({ apps, appKeys }, { ...defaultApp("newco"), appToken: "newco-app-token-0123456789" });
    const newKid = (await appKeys.ring(ringOfNew.id)).signing().kid;
    expect(await kids()).toContain(newKid);

    // Cached again; then, past the TTL, built once more (other instances' changes are seen this way).
    await jwks.keys();
    queries = 0;
    await jwks.keys();
    expect(queries).toBe(0);
    clock.advance(JWKS_TTL_MS + 1);
    await jwks.keys();
    await jwks.keys();
    expect(queries).toBe(1);
  });
});
