// Recovery codes in the core (issue 17): their shape, storage (HMACs only, in the database),
// single use under concurrency, and the sign-in's use of them in place of the second factor
// (Yeep-style with the password, Cosync-style on a login token). PGlite in memory, real Redis.
import { randomBytes } from "node:crypto";
import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { loadConfig } from "../src/config.js";
import type { ActiveApp, NewApp } from "../src/core/apps/app.js";
import type { AuditEvent } from "../src/core/audit.js";
import { ManualClock } from "../src/core/clock.js";
import { DeviceCredentials } from "../src/core/devices/device-credential.js";
import { ok } from "../src/core/failure.js";
import { SignInLimits } from "../src/core/limits/sign-in-limits.js";
import { Challenges } from "../src/core/otp/challenges.js";
import { normalRecoveryCode, RecoveryCodes } from "../src/core/otp/recovery-codes.js";
import { TotpVerifier } from "../src/core/otp/totp.js";
import { PasswordHasher } from "../src/core/password/hasher.js";
import { UNKNOWN_CONTEXT } from "../src/core/request-context.js";
import { Sealer } from "../src/core/secrets/sealer.js";
import { SignIn, type Issue, type SignInMethod } from "../src/core/sign-in/sign-in.js";
import { redisLimiters } from "../src/stores/limiters.js";
import { PostgresAccountStore } from "../src/stores/postgres/accounts.js";
import { PostgresAppStore } from "../src/stores/postgres/apps.js";
import { openDatabase, type Database } from "../src/stores/postgres/database.js";
import { migrate } from "../src/stores/postgres/migrations.js";
import { PostgresRecoveryCodeStore } from "../src/stores/postgres/recovery-codes.js";
import { RedisEphemeralStore } from "../src/stores/redis/ephemeral.js";
import { TOTP_SECRET, uniqueName } from "./support/service.js";

const PASSWORD = "right-password";
const hasher = new PasswordHasher({ memoryKiB: 19456, iterations: 2, parallelism: 1 });
const silent = { info() {}, warn() {}, error() {} };
const ctx = UNKNOWN_CONTEXT;

let db: Database;
let redis: RedisEphemeralStore;
beforeAll(async () => {
  db = await openDatabase({ dataDir: "memory://", schema: "recovery" });
  await migrate(db);
  redis = new RedisEphemeralStore(inject("redisUrl"), `${uniqueName("recovery")}:`);
  await redis.ready();
});
afterAll(async () => {
  await redis?.close();
  await db?.close();
});

const newAccountId = () => randomBytes(12).toString("hex");

function codes(events: AuditEvent[] = []) {
  return new RecoveryCodes(new PostgresRecoveryCodeStore(db), randomBytes(32), { record: (_c, e) => void events.push(e) });
}

describe("recovery codes", () => {
  it("ten distinct codes of 50 bits (xxxxx-xxxxx, Crockford base32), stored only as HMACs", async () => {
    const accountId = newAccountId();
    const account = { id: accountId, appId: "app" } as never;
    const set = await codes().generate(ctx, account);
    expect(set).toHaveLength(10);
    expect(new Set(set).size).toBe(10);
    for (const c of set) expect(c).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
    const rows = await db.query<{ code_hash: string; used_at: Date | null }>("SELECT code_hash, used_at FROM recovery_codes WHERE account_id = $1", [accountId]);
    expect(rows).toHaveLength(10);
    const stored = JSON.stringify(rows);
    for (const c of set) {
      expect(stored).not.toContain(c.replace("-", ""));
      expect(stored).not.toContain(c);
    }
    for (const r of rows) expect(r.code_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("compares without case, spaces or dashes; I and L read as 1, O as 0; other shapes are no code", () => {
    expect(normalRecoveryCode(" ab1c0-defgh ")).toBe("AB1C0DEFGH");
    expect(normalRecoveryCode("abIcO de-fgh")).toBe("AB1C0DEFGH");
    expect(normalRecoveryCode("ab1c0defgh")).toBe("AB1C0DEFGH");
    for (const bad of ["123456", "AB1C0-DEFG", "AB1C0-DEFGHJ", "AB1C0-DEFGU", "", "AB1C0_DEFGH"]) expect(normalRecoveryCode(bad), bad).toBeNull();
  });

  it("each code works once; its use is audited with how many are left; a new set replaces the old", async () => {
    const events: AuditEvent[] = [];
    const rc = codes(events);
    const accountId = newAccountId();
    const account = { id: accountId, appId: "app" } as never;
    const [first, second] = await rc.generate(ctx, account);
    expect(await rc.left({ id: accountId })).toBe(10);
    expect(await rc.use(ctx, "app", accountId, first!.toLowerCase().replace("-", " "))).toBe("ok");
    expect(await rc.use(ctx, "app", accountId, first!)).toBe("invalid");
    expect(await rc.use(ctx, "app", newAccountId(), second!)).toBe("invalid"); // another account's
    expect(await rc.left({ id: accountId })).toBe(9);
    expect(events.filter((e) => e.event === "recovery_code.used")).toStrictEqual([{ event: "recovery_code.used", appId: "app", accountId, left: 9 }]);
    const renewed = await rc.generate(ctx, account);
    expect(await rc.left({ id: accountId })).toBe(10);
    expect(await rc.use(ctx, "app", accountId, second!)).toBe("invalid");
    expect(await rc.use(ctx, "app", accountId, renewed[0]!)).toBe("ok");
  });

  it("50 concurrent uses of one code (two store instances on one database): exactly one succeeds", async () => {
    const a = codes();
    const accountId = newAccountId();
    const [code] = await a.generate(ctx, { id: accountId, appId: "app" } as never);
    // The same key: what two instances of one deployment derive from the same server secret.
    const secret = randomBytes(32);
    const one = new RecoveryCodes(new PostgresRecoveryCodeStore(db), secret, { record() {} });
    const two = new RecoveryCodes(new PostgresRecoveryCodeStore(db), secret, { record() {} });
    const [shared] = await one.generate(ctx, { id: accountId, appId: "app" } as never);
    expect(code).not.toBe(shared);
    const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? one : two).use(ctx, "app", accountId, shared!)));
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(1);
    expect(await one.left({ id: accountId })).toBe(9);
  });
});

/** An app with TOTP two-factor and one account "wile" with TOTP; SignIn with recovery codes on the real Redis. */
async function world(limits: Record<string, string> = {}) {
  const clock = new ManualClock(Math.floor(Date.now() / 30_000) * 30_000 + 5_000);
  const accounts = new PostgresAccountStore(db, new Sealer(null));
  const apps = new PostgresAppStore(db);
  const appToken = randomBytes(24).toString("base64url");
  const app = await apps.upsert({
    id: `app-${randomBytes(6).toString("hex")}`,
    name: "Recovery",
    status: "active",
    twoFactor: "google",
    realmAppId: "realm",
    jwtExpirationHours: 24,
    metadataFields: [],
    passwordPrehash: "none",
    appToken,
    rememberDeviceDays: 0,
  } satisfies NewApp);
  const account = await accounts.upsert({ appId: app.id, username: "wile", email: null, passwordHash: await hasher.hash(PASSWORD), totpSecret: TOTP_SECRET });
  const events: AuditEvent[] = [];
  const audit = { record: (_c: unknown, e: AuditEvent) => void events.push(e) };
  const recoveryCodes = new RecoveryCodes(new PostgresRecoveryCodeStore(db), randomBytes(32), audit);
  const signIn = new SignIn({
    apps,
    accounts,
    hasher,
    totp: new TotpVerifier(redis, clock),
    limits: new SignInLimits(redisLimiters(redis.client), loadConfig(limits).limits),
    challenges: new Challenges(redis, clock, 5, randomBytes(32)),
    sms: { send: async () => {} },
    audit,
    log: silent,
    devices: new DeviceCredentials(randomBytes(32), clock),
    recoveryCodes,
  });
  const proofs: SignInMethod[] = [];
  const issue: Issue<string> = async (a, _app, how) => (proofs.push(how), ok(async () => `credentials of ${a.id}`));
  const step = (extra = {}) => ({ ctx, app: { id: app.id, lookup: apps.findById(app.id) }, login: "wile", password: PASSWORD, form: "plain" as const, ...extra });
  const active = async () => ((await signIn.appForToken(ctx, appToken)) as { value: ActiveApp }).value;
  return { app, account, signIn, issue, proofs, step, active, recoveryCodes, events, clock };
}

describe("a recovery code at sign-in", () => {
  it("is offered (applicableAuthFactorTypes) only while the account has codes left", async () => {
    const w = await world();
    const before = await w.signIn.withPassword(w.step(), w.issue);
    expect(before).toMatchObject({ ok: true, value: { status: "second_factor_required", factors: ["TOTP"] } });
    await w.recoveryCodes.generate(ctx, w.account);
    const after = await w.signIn.withPassword(w.step(), w.issue);
    expect(after).toMatchObject({ ok: true, value: { status: "second_factor_required", factors: ["TOTP", "RECOVERY_CODE"] } });
  });

  it("Yeep-style: RECOVERY_CODE with the password signs in once, as a second factor passed; a wrong one is a wrong second factor", async () => {
    const w = await world();
    const [code] = await w.recoveryCodes.generate(ctx, w.account);
    const wrong = await w.signIn.withPassword(w.step({ secondFactor: { type: "RECOVERY_CODE", token: "AAAAA-AAAAA" } }), w.issue);
    expect(wrong).toMatchObject({ ok: false, failure: { reason: "INVALID_SECOND_FACTOR" } });
    expect(w.events.map((e) => e.event)).toContain("second_factor.failure");
    const right = await w.signIn.withPassword(w.step({ secondFactor: { type: "RECOVERY_CODE", token: ` ${code!.toLowerCase()} ` } }), w.issue);
    expect(right).toMatchObject({ ok: true, value: { status: "signed_in" } });
    expect(w.proofs.map((p) => p.secondFactor)).toStrictEqual(["RECOVERY_CODE"]);
    expect(w.events.find((e) => e.event === "recovery_code.used")).toMatchObject({ accountId: w.account.id, left: 9 });
    const again = await w.signIn.withPassword(w.step({ secondFactor: { type: "RECOVERY_CODE", token: code! } }), w.issue);
    expect(again).toMatchObject({ ok: false, failure: { reason: "INVALID_SECOND_FACTOR" } });
  });

  it("wrong recovery codes count against the second-factor limit", async () => {
    const w = await world({ LIMIT_SECOND_FACTOR_FAILURES: "2/900" });
    const [code] = await w.recoveryCodes.generate(ctx, w.account);
    for (const token of ["AAAAA-AAAAA", "BBBBB-BBBBB"]) await w.signIn.withPassword(w.step({ secondFactor: { type: "RECOVERY_CODE", token } }), w.issue);
    const blocked = await w.signIn.withPassword(w.step({ secondFactor: { type: "RECOVERY_CODE", token: code! } }), w.issue);
    expect(blocked).toMatchObject({ ok: false, failure: { reason: "TOO_MANY_ATTEMPTS" } });
    expect(await w.recoveryCodes.left({ id: w.account.id })).toBe(10); // not checked, not spent
  });

  it("Cosync-style: a recovery code in place of the 6-digit code on a login token, once", async () => {
    const w = await world();
    const [code] = await w.recoveryCodes.generate(ctx, w.account);
    const loginToken = async () =>
      ((await w.signIn.withPassword({ ...w.step(), app: await w.active(), continueWithLoginToken: true }, w.issue)) as { value: { loginToken: string } }).value.loginToken;
    const token = await loginToken();
    const done = await w.signIn.complete({ ctx, app: await w.active(), loginToken: token, code: code! }, w.issue);
    expect(done).toMatchObject({ ok: true, value: { status: "signed_in" } });
    expect(w.proofs.map((p) => p.secondFactor)).toStrictEqual(["RECOVERY_CODE"]);
    const reused = await w.signIn.complete({ ctx, app: await w.active(), loginToken: await loginToken(), code: code! }, w.issue);
    expect(reused).toMatchObject({ ok: false, failure: { reason: "INVALID_SECOND_FACTOR" } });
    // The factor's own code still works on a login token.
    const totp = await generate({ secret: TOTP_SECRET, epoch: Math.floor(w.clock.now() / 1000) });
    expect(await w.signIn.complete({ ctx, app: await w.active(), loginToken: await loginToken(), code: totp }, w.issue)).toMatchObject({ ok: true });
  });

  it("with the last factor removed, the codes go; while a factor remains they stay", async () => {
    const w = await world();
    await w.recoveryCodes.generate(ctx, w.account);
    await w.recoveryCodes.afterFactorRemoved(w.app, w.account); // still has TOTP
    expect(await w.recoveryCodes.left({ id: w.account.id })).toBe(10);
    await w.recoveryCodes.afterFactorRemoved(w.app, { ...w.account, totpSecret: null });
    expect(await w.recoveryCodes.left({ id: w.account.id })).toBe(0);
  });

  it("a passkey is a factor they back up: generated and kept for a passkey-only account", async () => {
    const w = await world();
    const withPasskey = new RecoveryCodes(new PostgresRecoveryCodeStore(db), randomBytes(32), { record() {} }, { has: async (id) => id === w.account.id });
    const passkeyOnly = { ...w.account, totpSecret: null };
    expect(await withPasskey.backUp(w.app, passkeyOnly)).toBe(true);
    expect(await w.recoveryCodes.backUp(w.app, passkeyOnly)).toBe(false); // no passkeys in this world
    await withPasskey.generate(ctx, passkeyOnly);
    await withPasskey.afterFactorRemoved(w.app, passkeyOnly);
    expect(await withPasskey.left({ id: w.account.id })).toBe(10);
  });
});
