// Database statements per sign-in, counted at the service's one query interface: the account is
// read by its login together with whether it has a passkey (one statement, whose plan the database
// keeps: migration 7), the app comes from the cache. Each statement is a round trip to PostgreSQL, or WebAssembly work on the main thread
// with PGlite.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../src/stores/postgres/database.js";
import { COYOTE, post, startTestService, uniqueName, type TestService } from "./support/service.js";
import { dropSharedSchema } from "./support/service.js";

describe("database statements per sign-in", () => {
  const schema = uniqueName("q");
  let db: Database;
  let svc: TestService;
  let statements: string[] = [];
  beforeAll(async () => {
    db = await openDatabase({ url: process.env.DATABASE_URL, dataDir: "memory://", schema });
    const counted: Database = {
      query: (text, params) => (statements.push(text), db.query(text, params)),
      transaction: (fn) => db.transaction(fn),
      close: () => db.close(),
    };
    svc = await startTestService({ DATABASE_SCHEMA: schema }, [COYOTE], [], counted);
  });
  afterAll(async () => {
    await svc?.close();
    await db?.close();
    await dropSharedSchema(schema);
  });

  const during = async (fn: () => Promise<unknown>) => {
    statements = [];
    await fn();
    return statements;
  };
  const signIn = (password = COYOTE.password) => post(`${svc.url}/api/session.setCookie`, { user: "coyote", password });

  it("a sign-in without a second factor makes one: the account with its passkey flag", async () => {
    expect((await signIn()).json.ok).toBe(true); // the app cache warms up
    for (let i = 0; i < 3; i++) {
      const made = await during(async () => expect((await signIn()).json.ok).toBe(true));
      expect(made).toHaveLength(1);
      expect(made[0]).toMatch(/account_by_login/);
    }
  });

  it("a wrong password makes one too", async () => {
    expect(await during(async () => expect((await signIn("wrong")).json.error.code).toBe(10002))).toHaveLength(1);
  });

  it("user.info makes none: the account, with its recovery codes left, comes from the cache", async () => {
    const cookie = (await signIn()).headers.get("set-cookie")!.split(";")[0]!;
    const info = () => post(`${svc.url}/api/user.info`, {}, { cookie });
    expect((await info()).json.user.recoveryCodesLeft).toBe(0); // the account cache warms up
    for (let i = 0; i < 3; i++) expect(await during(async () => expect((await info()).json.user.recoveryCodesLeft).toBe(0))).toStrictEqual([]);
  });
});
