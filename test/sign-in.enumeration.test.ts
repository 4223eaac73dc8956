// Sign-in must not tell which accounts exist: unknown user and wrong password get the same
// answer; deactivation is revealed only with the right password. Old hashes are upgraded.
import { hash } from "@node-rs/argon2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultApp } from "../src/core/apps/app.js";
import { loadConfig } from "../src/config.js";
import { loggerAudit } from "../src/core/audit.js";
import { UNKNOWN_CONTEXT } from "../src/core/request-context.js";
import { ManualClock } from "../src/core/clock.js";
import { SignInLimits } from "../src/core/limits/sign-in-limits.js";
import { memoryLimiters } from "../src/stores/limiters.js";
import { TotpVerifier } from "../src/core/otp/totp.js";
import { PasswordHasher } from "../src/core/password/hasher.js";
import { SignIn } from "../src/core/sign-in/sign-in.js";
import { MemoryEphemeralStore } from "../src/stores/memory/ephemeral.js";
import { PostgresAccountStore } from "../src/stores/postgres/accounts.js";
import { PostgresAppStore } from "../src/stores/postgres/apps.js";
import { openDatabase } from "../src/stores/postgres/database.js";
import { migrate } from "../src/stores/postgres/migrations.js";
import { COYOTE, post, startTestService, type TestService } from "./support/service.js";

const SLEEPY = { id: "aaaaaaaaaaaaaaaaaaaaaaaa", username: "sleepy", email: "sleepy@acme.com", password: "zzz-zzz-zzz", deactivated: true };
const CAFE = { username: "José", email: "Jose.Cafe@Example.com", password: "caf\u00e9-au-lait" };

describe("sign-in answers", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({}, [COYOTE, SLEEPY, CAFE]);
  });
  afterAll(() => svc?.close());

  const signIn = (user: string, password: string) => post(`${svc.url}/api/session.setCookie`, { user, password });

  it("unknown user and wrong password: byte-identical answers (10002)", async () => {
    const unknown = await signIn("nobody@acme.com", "catch-the-b1rd$");
    const wrong = await signIn("coyote@acme.com", "not-the-password");
    expect(unknown.json).toStrictEqual({ ok: false, error: { code: 10002, message: "Invalid username or password" } });
    expect(wrong.text).toBe(unknown.text);
    expect(wrong.headers.get("set-cookie")).toBeNull();
  });

  it("a deactivated account with a wrong password answers like any wrong password", async () => {
    const res = await signIn("sleepy", "wrong");
    expect(res.json.error.code).toBe(10002);
  });

  it("a deactivated account with the right password answers 10022 and gets no session", async () => {
    const res = await signIn("sleepy@acme.com", SLEEPY.password);
    expect(res.json).toMatchObject({ ok: false, error: { code: 10022 } });
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it("finds the user by username or email, case-insensitively and Unicode-normalised", async () => {
    for (const user of ["coyote", "COYOTE", "Coyote@Acme.com", " coyote@acme.com ", "\uff43oyote"]) {
      expect((await signIn(user, COYOTE.password)).json).toStrictEqual({ ok: true, user: { id: COYOTE.id } });
    }
    // "José" typed with a combining accent (NFD) finds the account registered in NFC.
    expect((await signIn("Jose\u0301", CAFE.password)).json.ok).toBe(true);
    // The password is normalised too (NFKC): the same typed password in NFD matches.
    expect((await signIn("jose.cafe@example.com", "cafe\u0301-au-lait")).json.ok).toBe(true);
  });
});

describe("password hash upgrade", () => {
  it("a hash with older argon2 parameters is re-hashed with the configured ones on a successful sign-in only", async () => {
    const db = await openDatabase({ dataDir: "memory://", schema: "upgrade" });
    await migrate(db);
    const accounts = new PostgresAccountStore(db);
    const apps = new PostgresAppStore(db);
    const params = { memoryKiB: 19456, iterations: 2, parallelism: 1 };
    const hasher = new PasswordHasher(params);
    const store = new MemoryEphemeralStore(new ManualClock());
    const silent = { info() {}, warn() {}, error() {} };
    const limits = new SignInLimits(memoryLimiters(), loadConfig({}).limits);
    const signIn = new SignIn(accounts, hasher, new TotpVerifier(store, new ManualClock()), limits, loggerAudit(silent), silent);
    try {
      const old = await hash(COYOTE.password, { algorithm: 2, memoryCost: 8192, timeCost: 1, parallelism: 1 } as never);
      expect(old).toMatch(/^\$argon2id\$v=19\$m=8192,t=1,p=1\$/);
      const app = defaultApp("default");
      await apps.upsert(app);
      await accounts.upsert({ id: COYOTE.id, appId: app.id, username: COYOTE.username, email: COYOTE.email, passwordHash: old });
      const creds = (password: string) => ({ ctx: UNKNOWN_CONTEXT, app, login: "coyote", password, form: "plain" as const });

      expect((await signIn.signIn(creds("wrong"))).ok).toBe(false);
      expect((await accounts.findById(COYOTE.id))!.passwordHash).toBe(old);

      expect((await signIn.signIn(creds(COYOTE.password))).ok).toBe(true);
      const upgraded = (await accounts.findById(COYOTE.id))!.passwordHash;
      expect(upgraded).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      expect(await hasher.verify(upgraded, COYOTE.password)).toStrictEqual({ ok: true, needsRehash: false });
      expect((await signIn.signIn(creds(COYOTE.password))).ok).toBe(true);
    } finally {
      await store.close();
      await db.close();
    }
  });
});
