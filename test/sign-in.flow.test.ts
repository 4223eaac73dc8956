// The sign-in decision table, in the core alone (no server; PGlite in memory, the in-process
// store, a manual clock): app state x account state x second factor x password x code, with the
// answer and the audit events each combination produces. Success is audited only once issued.
import { hash } from "@node-rs/argon2";
import { randomBytes } from "node:crypto";
import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { loadConfig } from "../src/config.js";
import type { Account } from "../src/core/accounts/account.js";
import { checkApp, type ActiveApp, type AppStatus, type NewApp, type TwoFactorMode } from "../src/core/apps/app.js";
import type { AuditEvent } from "../src/core/audit.js";
import { ManualClock } from "../src/core/clock.js";
import { DeviceCredentials } from "../src/core/devices/device-credential.js";
import { fail, ok, type Result } from "../src/core/failure.js";
import { SignInLimits } from "../src/core/limits/sign-in-limits.js";
import { Challenges } from "../src/core/otp/challenges.js";
import type { SmsMessage } from "../src/core/otp/sms.js";
import { TotpVerifier } from "../src/core/otp/totp.js";
import { PasswordHasher } from "../src/core/password/hasher.js";
import { UNKNOWN_CONTEXT } from "../src/core/request-context.js";
import { Sealer } from "../src/core/secrets/sealer.js";
import { SignIn, type Issue } from "../src/core/sign-in/sign-in.js";
import { memoryLimiters, redisLimiters } from "../src/stores/limiters.js";
import { RedisEphemeralStore } from "../src/stores/redis/ephemeral.js";
import { MemoryEphemeralStore } from "../src/stores/memory/ephemeral.js";
import { PostgresAccountStore } from "../src/stores/postgres/accounts.js";
import { PostgresAppStore } from "../src/stores/postgres/apps.js";
import { openDatabase, type Database } from "../src/stores/postgres/database.js";
import { migrate } from "../src/stores/postgres/migrations.js";
import { TOTP_SECRET, uniqueName } from "./support/service.js";

const PASSWORD = "right-password";
const PARAMS = { memoryKiB: 19456, iterations: 2, parallelism: 1 };
const hasher = new PasswordHasher(PARAMS);
const silent = { info() {}, warn() {}, error() {} };

let db: Database;
beforeAll(async () => {
  db = await openDatabase({ dataDir: "memory://", schema: "flow" });
  await migrate(db);
});
const opened: RedisEphemeralStore[] = [];
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await db?.close();
});

interface Setup {
  status?: AppStatus;
  twoFactor?: TwoFactorMode;
  deactivated?: boolean;
  totp?: boolean;
  phone?: "verified" | "unverified";
  passwordHash?: string;
  limits?: Record<string, string>;
  /** The shared store on the real Redis (namespaced) instead of the in-process one. */
  redis?: boolean;
}

/** A fresh app (own id and token) with one account "wile", and a SignIn over them. */
async function world(s: Setup = {}) {
  const clock = new ManualClock(Math.floor(Date.now() / 30_000) * 30_000 + 5_000);
  const redis = s.redis ? new RedisEphemeralStore(inject("redisUrl"), `${uniqueName("flow")}:`) : null;
  if (redis) opened.push(redis);
  await redis?.ready();
  const store = redis ?? new MemoryEphemeralStore(clock);
  const accounts = new PostgresAccountStore(db, new Sealer(null));
  const apps = new PostgresAppStore(db);
  const appToken = randomBytes(24).toString("base64url");
  const app = await apps.upsert({
    id: `app-${randomBytes(6).toString("hex")}`,
    name: "Flow",
    status: s.status ?? "active",
    twoFactor: s.twoFactor ?? "google",
    realmAppId: "realm",
    jwtExpirationHours: 24,
    metadataFields: [],
    passwordPrehash: "none",
    appToken,
    rememberDeviceDays: 0,
  } satisfies NewApp);
  const account = await accounts.upsert({
    appId: app.id,
    username: "wile",
    email: "wile@acme.com",
    passwordHash: s.passwordHash ?? (await hasher.hash(PASSWORD)),
    totpSecret: s.totp ? TOTP_SECRET : null,
    deactivated: s.deactivated ?? false,
    phone: s.phone ? "+15555550100" : null,
    phoneVerified: s.phone === "verified",
    phoneTwoFactor: !!s.phone,
  });
  const events: AuditEvent[] = [];
  const sent: SmsMessage[] = [];
  const signIn = new SignIn({
    apps,
    accounts,
    hasher,
    totp: new TotpVerifier(store, clock),
    limits: new SignInLimits(redis ? redisLimiters(redis.client) : memoryLimiters(), loadConfig(s.limits ?? {}).limits),
    challenges: new Challenges(store, clock, 5, randomBytes(32)),
    sms: { send: async (m) => void sent.push(m) },
    audit: { record: (_ctx, e) => void events.push(e) },
    log: silent,
    devices: new DeviceCredentials(randomBytes(32), clock),
  });
  const issued: string[] = [];
  const issue: Issue<string> = async (a) => (issued.push(a.id), ok(async () => `credentials of ${a.id}`));
  const ctx = UNKNOWN_CONTEXT;
  const byId = (login = "wile", password = PASSWORD, extra = {}) => ({
    ctx,
    app: { id: app.id, lookup: apps.findById(app.id) },
    login,
    password,
    form: "plain" as const,
    ...extra,
  });
  const active = async () => ((await signIn.appForToken(ctx, appToken)) as { value: ActiveApp }).value;
  const code = (offsetMs = 0) => generate({ secret: TOTP_SECRET, epoch: Math.floor((clock.now() + offsetMs) / 1000) });
  /** Cosync-style: the password step that continues with a login token. */
  const loginToken = async () => {
    const first = await signIn.withPassword({ ...byId(), app: await active(), form: "plain", continueWithLoginToken: true }, issue);
    return (first as { value: { loginToken: string } }).value.loginToken;
  };
  const complete = async (token: string, c: string, with_: Issue<string> = issue) =>
    signIn.complete({ ctx, app: await active(), loginToken: token, code: c }, with_);
  // Every success here is a new device's (no device credential presented): test/devices.known-device.test.ts covers that event.
  const trail = () => events.filter((e) => e.event !== "sign_in.new_device").map((e) => [e.event, e.reason ?? null]);
  return { app, appToken, account, accounts, signIn, issue, issued, byId, active, code, loginToken, complete, trail, events, sent, clock, ctx };
}

const reasonOf = (r: Result<unknown>) => (r.ok ? "ok" : r.failure.reason);

describe("the password step", () => {
  it.each([
    ["right password, no factor", {}, PASSWORD, "ok", [["sign_in.success", null]]],
    ["wrong password", {}, "wrong", "INVALID_CREDENTIALS", [["sign_in.failure", "wrong_password"]]],
    ["deactivated, right password", { deactivated: true }, PASSWORD, "ACCOUNT_DEACTIVATED", [["sign_in.failure", "deactivated"]]],
    ["deactivated, wrong password", { deactivated: true }, "wrong", "INVALID_CREDENTIALS", [["sign_in.failure", "wrong_password"]]],
    ["suspended app", { status: "suspended" }, PASSWORD, "APP_SUSPENDED", [["sign_in.failure", "suspended"]]],
    ["deleted app", { status: "deleted" }, PASSWORD, "APP_DELETED", [["sign_in.failure", "deleted"]]],
    ["TOTP in a phone-mode app does not apply", { totp: true, twoFactor: "phone" }, PASSWORD, "ok", [["sign_in.success", null]]],
    ["phone two-factor on an unverified phone does not apply", { twoFactor: "phone", phone: "unverified" }, PASSWORD, "ok", [["sign_in.success", null]]],
  ] as const)("%s: %s", async (_name, setup, password, expected, trail) => {
    const w = await world(setup as Setup);
    const r = await w.signIn.withPassword(w.byId("wile", password), w.issue);
    expect(reasonOf(r)).toBe(expected);
    expect(w.trail()).toStrictEqual(trail);
    expect(w.issued).toStrictEqual(expected === "ok" ? [w.account.id] : []);
    if (r.ok) expect(r.value).toMatchObject({ status: "signed_in", credentials: `credentials of ${w.account.id}` });
  });

  it("an unknown login: the same failure as a wrong password, audited without an account", async () => {
    const w = await world();
    expect(reasonOf(await w.signIn.withPassword(w.byId("nobody"), w.issue))).toBe("INVALID_CREDENTIALS");
    expect(w.events).toMatchObject([{ event: "sign_in.failure", reason: "unknown_account", accountId: undefined }]);
  });

  it("an app id that no longer exists is refused and audited", async () => {
    const w = await world();
    const r = await w.signIn.withPassword({ ...w.byId(), app: { id: "gone", lookup: Promise.resolve(null) } }, w.issue);
    expect(reasonOf(r)).toBe("APP_DELETED");
    expect(w.trail()).toStrictEqual([["sign_in.failure", "unknown_app"]]);
  });

  it("a refusal by the issuer (missing metadata) refuses the sign-in: audited as a failure, never as a success", async () => {
    const w = await world();
    const r = await w.signIn.withPassword(w.byId(), async () => fail("INVALID_METADATA"));
    expect(reasonOf(r)).toBe("INVALID_METADATA");
    expect(w.trail()).toStrictEqual([["sign_in.failure", "invalid_metadata"]]);
  });

  it("credentials are delivered before the answer; a delivery that fails is an error, and the audit trail says so", async () => {
    const w = await world();
    const delivered: string[] = [];
    const r = await w.signIn.withPassword(w.byId(), async () => ok(async () => (delivered.push("session saved"), "c")));
    expect(r.ok && delivered).toStrictEqual(["session saved"]);
    const broken = w.signIn.withPassword(w.byId(), async () => ok(() => Promise.reject(new Error("store down"))));
    await expect(broken).rejects.toThrow("store down");
    expect(w.trail()).toStrictEqual([["sign_in.success", null], ["sign_in.success", null], ["sign_in.failure", "not_delivered"]]);
  });

  it("the limits refuse before any password work, audited as blocked", async () => {
    const w = await world({ limits: { LIMIT_ACCOUNT_IP_FAILURES: "2" } });
    for (let i = 0; i < 2; i++) expect(reasonOf(await w.signIn.withPassword(w.byId("wile", "wrong"), w.issue))).toBe("INVALID_CREDENTIALS");
    expect(reasonOf(await w.signIn.withPassword(w.byId(), w.issue))).toBe("TOO_MANY_ATTEMPTS");
    expect(w.trail().at(-1)).toStrictEqual(["sign_in.blocked", "account-ip"]);
    expect(w.issued).toStrictEqual([]);
  });

  it("a hash with older argon2 parameters is re-hashed with the configured ones on a successful sign-in only", async () => {
    const old = await hash(PASSWORD, { algorithm: 2, memoryCost: 8192, timeCost: 1, parallelism: 1 } as never);
    const w = await world({ passwordHash: old });
    expect((await w.signIn.withPassword(w.byId("wile", "wrong"), w.issue)).ok).toBe(false);
    expect((await w.accounts.findById(w.account.id))!.passwordHash).toBe(old);
    expect((await w.signIn.withPassword(w.byId(), w.issue)).ok).toBe(true);
    const upgraded = (await w.accounts.findById(w.account.id))!.passwordHash;
    expect(upgraded).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hasher.verify(upgraded, PASSWORD)).toStrictEqual({ ok: true, needsRehash: false });
  });
});

describe("a second factor sent with the password (Yeep-style)", () => {
  it("none sent: second factor required, which ones, no login token, nothing issued", async () => {
    const w = await world({ totp: true });
    const r = await w.signIn.withPassword(w.byId(), w.issue);
    expect(r).toStrictEqual({ ok: true, value: { status: "second_factor_required", factors: ["TOTP"], loginToken: undefined } });
    expect(w.trail()).toStrictEqual([["second_factor.required", "TOTP"]]);
    expect(w.issued).toStrictEqual([]);
  });

  it("right, wrong, replayed, or of another type", async () => {
    const w = await world({ totp: true });
    const attempt = async (type: string, token: string) => reasonOf(await w.signIn.withPassword(w.byId("wile", PASSWORD, { secondFactor: { type, token } }), w.issue));
    const right = await w.code();
    expect(await attempt("TOTP", "000000" === right ? "111111" : "000000")).toBe("INVALID_SECOND_FACTOR");
    expect(await attempt("SMS", right)).toBe("INVALID_SECOND_FACTOR");
    expect(await attempt("TOTP", right)).toBe("ok");
    expect(await attempt("TOTP", right)).toBe("INVALID_SECOND_FACTOR");
    expect(w.trail()).toStrictEqual([
      ["second_factor.failure", "invalid"],
      ["second_factor.failure", "invalid"],
      ["sign_in.success", null],
      ["second_factor.failure", "replayed"],
    ]);
    expect(w.issued).toStrictEqual([w.account.id]);
  });

  it("a wrong password with a right code: the password's failure, the code is not checked", async () => {
    const w = await world({ totp: true });
    const r = await w.signIn.withPassword(w.byId("wile", "wrong", { secondFactor: { type: "TOTP", token: await w.code() } }), w.issue);
    expect(reasonOf(r)).toBe("INVALID_CREDENTIALS");
    expect(reasonOf(await w.signIn.withPassword(w.byId("wile", PASSWORD, { secondFactor: { type: "TOTP", token: await w.code() } }), w.issue))).toBe("ok");
  });
});

describe("a login token and its code (Cosync-style)", () => {
  it("app tokens: unknown, suspended and deleted apps are refused and audited; an active one passes silently", async () => {
    const w = await world();
    expect(reasonOf(await w.signIn.appForToken(w.ctx, "not-a-token"))).toBe("INVALID_APP_TOKEN");
    expect(reasonOf(await w.signIn.appForToken(w.ctx, null))).toBe("INVALID_APP_TOKEN");
    expect(reasonOf(await w.signIn.appForToken(w.ctx, w.appToken))).toBe("ok");
    const s = await world({ status: "suspended" });
    expect(reasonOf(await s.signIn.appForToken(s.ctx, s.appToken))).toBe("APP_SUSPENDED");
    const d = await world({ status: "deleted" });
    expect(reasonOf(await d.signIn.appForToken(d.ctx, d.appToken))).toBe("APP_DELETED");
    expect([...w.trail(), ...s.trail(), ...d.trail()]).toStrictEqual([
      ["sign_in.failure", "invalid_app_token"],
      ["sign_in.failure", "invalid_app_token"],
      ["sign_in.failure", "suspended"],
      ["sign_in.failure", "deleted"],
    ]);
  });

  it("TOTP: right code once; the token is then spent and the code replayed on a new token", async () => {
    const w = await world({ totp: true });
    const token = await w.loginToken();
    const right = await w.code();
    expect(await w.complete(token, right)).toStrictEqual({
      ok: true,
      value: { status: "signed_in", account: expect.objectContaining({ id: w.account.id }), credentials: `credentials of ${w.account.id}`, deviceToken: expect.stringMatching(/^dv1\./) },
    });
    expect(reasonOf(await w.complete(token, right))).toBe("INVALID_LOGIN_TOKEN");
    expect(reasonOf(await w.complete(await w.loginToken(), right))).toBe("INVALID_SECOND_FACTOR");
    expect(w.trail()).toStrictEqual([
      ["second_factor.required", "TOTP"],
      ["sign_in.success", null],
      ["login_token.invalid", "invalid_login_token"],
      ["second_factor.required", "TOTP"],
      ["second_factor.failure", "replayed"],
    ]);
  });

  it("SMS: a code is sent with the token; wrong, then right", async () => {
    const w = await world({ twoFactor: "phone", phone: "verified" });
    const token = await w.loginToken();
    expect(w.sent).toMatchObject([{ to: "+15555550100", appId: w.app.id, purpose: "login" }]);
    const sentCode = w.sent[0]!.code;
    expect(reasonOf(await w.complete(token, sentCode === "123456" ? "654321" : "123456"))).toBe("INVALID_SECOND_FACTOR");
    expect(reasonOf(await w.complete(token, sentCode))).toBe("ok");
    expect(w.trail()).toStrictEqual([
      ["sms.sent", "login"],
      ["second_factor.required", "SMS"],
      ["second_factor.failure", "invalid"],
      ["sign_in.success", null],
    ]);
  });

  it("an account deactivated between the password and the code: refused after the right code, audited as a failure, nothing issued", async () => {
    const w = await world({ totp: true });
    const token = await w.loginToken();
    await w.accounts.update(w.account.id, { deactivated: true });
    expect(reasonOf(await w.complete(token, await w.code()))).toBe("ACCOUNT_DEACTIVATED");
    expect(w.trail()).toStrictEqual([
      ["second_factor.required", "TOTP"],
      ["sign_in.failure", "deactivated"],
    ]);
    expect(w.issued).toStrictEqual([]);
  });

  it("a refusal by the issuer after the code (missing metadata) is audited as a failure, never as a success", async () => {
    const w = await world({ totp: true });
    const r = await w.complete(await w.loginToken(), await w.code(), async () => fail("INVALID_METADATA"));
    expect(reasonOf(r)).toBe("INVALID_METADATA");
    expect(w.trail()).toStrictEqual([
      ["second_factor.required", "TOTP"],
      ["sign_in.failure", "invalid_metadata"],
    ]);
  });

  it("a token of another app, an expired token, a malformed one: invalid login token", async () => {
    const w = await world({ totp: true });
    const other = await world({ totp: true });
    const token = await w.loginToken();
    expect(reasonOf(await other.complete(token, await w.code()))).toBe("INVALID_LOGIN_TOKEN");
    expect(reasonOf(await w.complete("short", await w.code()))).toBe("INVALID_LOGIN_TOKEN");
    w.clock.advance(5 * 60 * 1000 + 1);
    expect(reasonOf(await w.complete(token, await w.code()))).toBe("INVALID_LOGIN_TOKEN");
  });

  it("five wrong codes burn the token: the right one is then refused as an invalid token", async () => {
    const w = await world({ totp: true });
    const token = await w.loginToken();
    const right = await w.code();
    const wrong = right === "000000" ? "111111" : "000000";
    for (let i = 0; i < 5; i++) expect(reasonOf(await w.complete(token, wrong))).toBe("INVALID_SECOND_FACTOR");
    expect(reasonOf(await w.complete(token, right))).toBe("INVALID_LOGIN_TOKEN");
    expect(w.trail().slice(-2)).toStrictEqual([
      ["second_factor.failure", "invalid"],
      ["login_token.invalid", "invalid_login_token"],
    ]);
  });

  it("the second-factor limit refuses before the code is checked, audited as blocked", async () => {
    const w = await world({ totp: true, limits: { LIMIT_SECOND_FACTOR_FAILURES: "2/900" } });
    const token = await w.loginToken();
    const right = await w.code();
    const wrong = right === "000000" ? "111111" : "000000";
    for (let i = 0; i < 2; i++) expect(reasonOf(await w.complete(token, wrong))).toBe("INVALID_SECOND_FACTOR");
    expect(reasonOf(await w.complete(token, right))).toBe("TOO_MANY_ATTEMPTS");
    expect(w.trail().at(-1)).toStrictEqual(["sign_in.blocked", "second-factor"]);
    expect(w.issued).toStrictEqual([]);
  });
});

describe("a double submit signs in exactly once, on the shared store (Redis)", () => {
  it.each([
    ["TOTP", { totp: true }],
    ["SMS", { twoFactor: "phone", phone: "verified" }],
  ] as const)("%s: 50 concurrent completions of one login token with the right code: one success", async (_factor, setup) => {
    const w = await world({ ...(setup as Setup), redis: true });
    const token = await w.loginToken();
    const code = w.sent[0]?.code ?? (await w.code());
    const results = await Promise.all(Array.from({ length: 50 }, () => w.complete(token, code)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(w.issued).toStrictEqual([w.account.id]);
    expect(reasonOf(await w.complete(token, code))).toBe("INVALID_LOGIN_TOKEN");
  });
});
