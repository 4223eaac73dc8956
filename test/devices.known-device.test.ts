// Known devices keep the owner in (issue 16, OWASP device cookies), in the core alone (PGlite in
// memory, the limits on real Redis or in memory, a manual clock): a genuine device credential for the
// attempt's app and login skips the per-account limits others filled and has a budget of its own
// (5 failures, then it is limited like anyone); what is not such a credential changes nothing.
import { randomBytes } from "node:crypto";
import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { loadConfig } from "../src/config.js";
import type { ActiveApp } from "../src/core/apps/app.js";
import type { AuditEvent } from "../src/core/audit.js";
import { ManualClock } from "../src/core/clock.js";
import { DEVICE_CREDENTIAL_TTL_MS, DeviceCredentials } from "../src/core/devices/device-credential.js";
import type { NewDeviceSignIn } from "../src/core/devices/new-device.js";
import { ok, type Result } from "../src/core/failure.js";
import { SignInLimits } from "../src/core/limits/sign-in-limits.js";
import { Challenges } from "../src/core/otp/challenges.js";
import { TotpVerifier } from "../src/core/otp/totp.js";
import { PasswordHasher } from "../src/core/password/hasher.js";
import { UNKNOWN_CONTEXT } from "../src/core/request-context.js";
import { Sealer } from "../src/core/secrets/sealer.js";
import { SignIn, type Issue, type SignedIn } from "../src/core/sign-in/sign-in.js";
import { memoryLimiters, redisLimiters } from "../src/stores/limiters.js";
import { MemoryEphemeralStore } from "../src/stores/memory/ephemeral.js";
import { RedisEphemeralStore } from "../src/stores/redis/ephemeral.js";
import { PostgresAccountStore } from "../src/stores/postgres/accounts.js";
import { PostgresAppStore } from "../src/stores/postgres/apps.js";
import { openDatabase, type Database } from "../src/stores/postgres/database.js";
import { migrate } from "../src/stores/postgres/migrations.js";
import { TOTP_SECRET, uniqueName } from "./support/service.js";

const PASSWORD = "right-password";
const hasher = new PasswordHasher({ memoryKiB: 19456, iterations: 2, parallelism: 1 });
const silent = { info() {}, warn() {}, error() {} };
// The account is limited after 3 failures across IPs (no delay first), so a short flood fills it.
const LIMITS = { LIMIT_ACCOUNT_FAILURES: "3/3600", LIMIT_ACCOUNT_DELAY_AFTER: "3" };

let db: Database;
const opened: RedisEphemeralStore[] = [];
beforeAll(async () => {
  db = await openDatabase({ dataDir: "memory://", schema: "devices" });
  await migrate(db);
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await db?.close();
});

async function world(backend: "memory" | "redis", limits: Record<string, string> = {}, totp = false) {
  const clock = new ManualClock(Math.floor(Date.now() / 30_000) * 30_000 + 5_000);
  const redis = backend === "redis" ? new RedisEphemeralStore(inject("redisUrl"), `${uniqueName("devices")}:`) : null;
  if (redis) opened.push(redis), await redis.ready();
  const store = redis ?? new MemoryEphemeralStore(clock);
  const accounts = new PostgresAccountStore(db, new Sealer(null));
  const apps = new PostgresAppStore(db);
  const appToken = randomBytes(24).toString("base64url");
  const app = await apps.upsert({
    id: `app-${randomBytes(6).toString("hex")}`,
    name: "Devices",
    status: "active",
    twoFactor: "google",
    realmAppId: "realm",
    jwtExpirationHours: 24,
    metadataFields: [],
    passwordPrehash: "none",
    appToken,
    rememberDeviceDays: 0,
  });
  const user = (username: string) =>
    accounts.upsert({ appId: app.id, username, email: `${username}@acme.com`, passwordHash: hash, totpSecret: totp ? TOTP_SECRET : null });
  const hash = await hasher.hash(PASSWORD);
  const [account, other] = [await user("wile"), await user("other")];
  const events: AuditEvent[] = [];
  const notified: NewDeviceSignIn[] = [];
  const devices = new DeviceCredentials(randomBytes(32), clock);
  const signIn = new SignIn({
    apps,
    accounts,
    hasher,
    totp: new TotpVerifier(store, clock),
    limits: new SignInLimits(redis ? redisLimiters(redis.client) : memoryLimiters(), loadConfig({ ...LIMITS, ...limits }).limits),
    challenges: new Challenges(store, clock, 5, randomBytes(32)),
    sms: { send: async () => {} },
    audit: { record: (_ctx, e) => void events.push(e) },
    log: silent,
    devices,
    newDevice: { notify: (s) => void notified.push(s) },
  });
  const issue: Issue<string> = async (a, _app, how) => ok(async () => `${a.id} on ${how.deviceId}`);
  /** One password attempt from `ip`, presenting `device` (a device credential) when given. */
  const attempt = (password: string, { ip = "203.0.113.1", device, login = "wile", extra = {} }: { ip?: string; device?: string; login?: string; extra?: object } = {}) =>
    signIn.withPassword({ ctx: { ...UNKNOWN_CONTEXT, ip, userAgent: "test-agent", deviceToken: device }, app: { id: app.id, lookup: apps.findById(app.id) }, login, password, form: "plain", ...extra }, issue);
  /** The device credential of a first sign-in (from the owner's IP). */
  const enroll = async (login = "wile") => signedIn(await attempt(PASSWORD, { login })).deviceToken;
  /** The flood: wrong passwords from other IPs until the account is limited for everyone without a device. */
  const flood = async () => {
    for (let i = 1; i <= 3; i++) expect(reasonOf(await attempt("wrong", { ip: `198.51.100.${i}` }))).toBe("INVALID_CREDENTIALS");
    expect(reasonOf(await attempt(PASSWORD))).toBe("TOO_MANY_ATTEMPTS");
  };
  const trail = () => events.map((e) => e.event);
  const active = async () => ((await signIn.appForToken(UNKNOWN_CONTEXT, appToken)) as { value: ActiveApp }).value;
  return { app, account, other, devices, events, notified, attempt, enroll, flood, trail, clock, signIn, issue, active };
}

const reasonOf = (r: Result<unknown>) => (r.ok ? "ok" : r.failure.reason);
function signedIn(r: Result<unknown>): SignedIn<string> {
  expect(r).toMatchObject({ ok: true, value: { status: "signed_in" } });
  return (r as { value: SignedIn<string> }).value;
}

describe.each(["memory", "redis"] as const)("known devices (%s limiters)", (backend) => {
  it("the owner's device gets in at once while others' failures keep the account limited; its credential is renewed, same device id", async () => {
    const w = await world(backend);
    const device = await w.enroll();
    const id = w.devices.open(device)!.deviceId;
    await w.flood();
    const owner = signedIn(await w.attempt(PASSWORD, { device }));
    expect(owner.credentials).toBe(`${w.account.id} on ${id}`);
    expect(w.devices.open(owner.deviceToken)).toMatchObject({ deviceId: id, accountId: w.account.id, appId: w.app.id, login: "wile" });
    // Its success resets only its own budget: without a device the account stays limited.
    expect(reasonOf(await w.attempt(PASSWORD))).toBe("TOO_MANY_ATTEMPTS");
    expect(reasonOf(await w.attempt(PASSWORD, { device: owner.deviceToken }))).toBe("ok");
  });

  it("5 wrong passwords with a device lock only that credential; its failures never count against the account", async () => {
    const w = await world(backend);
    const [phone, laptop] = [await w.enroll(), await w.enroll()];
    for (let i = 0; i < 5; i++) expect(reasonOf(await w.attempt("wrong", { device: phone, ip: `192.0.2.${i}` }))).toBe("INVALID_CREDENTIALS");
    // Not the account's failures: with a limit of 3, an attempt without a device still gets in.
    expect(reasonOf(await w.attempt(PASSWORD))).toBe("ok");
    await w.flood();
    // The locked credential goes through the account's limits, as if it presented nothing.
    expect(reasonOf(await w.attempt(PASSWORD, { device: phone }))).toBe("TOO_MANY_ATTEMPTS");
    expect(w.events.at(-1)).toMatchObject({ event: "sign_in.blocked", reason: "account" });
    expect(reasonOf(await w.attempt(PASSWORD, { device: laptop }))).toBe("ok");
  });

  it("per-IP limits still apply to a known device", async () => {
    const w = await world(backend, { LIMIT_IP_FAILURES: "2/600" });
    const device = await w.enroll();
    for (const login of ["a", "b"]) await w.attempt("wrong", { login, ip: "192.0.2.99" });
    expect(reasonOf(await w.attempt(PASSWORD, { device, ip: "192.0.2.99" }))).toBe("TOO_MANY_ATTEMPTS");
    expect(w.events.at(-1)).toMatchObject({ event: "sign_in.blocked", reason: "ip-failures" });
  });
});

describe("what is not a known device for the attempt", () => {
  it.each([
    ["no credential", () => undefined],
    ["garbage", () => "dv1.garbage.garbage"],
    ["another login of the same account (its email)", (w: World) => w.devices.issue({ accountId: w.account.id, appId: w.app.id, login: "wile@acme.com" })],
    ["another app's credential", (w: World) => w.devices.issue({ accountId: w.account.id, appId: "elsewhere", login: "wile" })],
    ["another key's credential (forged)", (w: World) => new DeviceCredentials(randomBytes(32), w.clock).issue({ accountId: w.account.id, appId: w.app.id, login: "wile" })],
  ] as const)("%s: limited like anyone", async (_name, credential) => {
    const w = await world("memory");
    const device = credential(w);
    await w.flood();
    expect(reasonOf(await w.attempt(PASSWORD, { device }))).toBe("TOO_MANY_ATTEMPTS");
  });

  it("an expired credential (a year after its last sign-in): limited like anyone", async () => {
    const w = await world("memory");
    const device = await w.enroll();
    await w.flood();
    w.clock.advance(DEVICE_CREDENTIAL_TTL_MS);
    expect(reasonOf(await w.attempt(PASSWORD, { device }))).toBe("TOO_MANY_ATTEMPTS");
  });

  it("a credential for this app and login but another account (made again since): even the right password is refused", async () => {
    const w = await world("memory");
    const device = w.devices.issue({ accountId: w.other.id, appId: w.app.id, login: "wile" });
    await w.flood();
    expect(reasonOf(await w.attempt(PASSWORD, { device }))).toBe("INVALID_CREDENTIALS");
    expect(w.events.at(-1)).toMatchObject({ event: "sign_in.failure", reason: "wrong_password", accountId: w.account.id });
  });
});

type World = Awaited<ReturnType<typeof world>>;

describe("new devices", () => {
  it("a success without a genuine credential for the account is a new device's: audited with the success, notified, a new device id", async () => {
    const w = await world("memory");
    const first = signedIn(await w.attempt(PASSWORD, { ip: "203.0.113.7" }));
    expect(w.trail()).toStrictEqual(["sign_in.success", "sign_in.new_device"]);
    expect(w.events[1]).toMatchObject({ appId: w.app.id, accountId: w.account.id });
    expect(w.notified).toStrictEqual([{ appId: w.app.id, accountId: w.account.id, ip: "203.0.113.7", userAgent: "test-agent" }]);
    // Its credential presented again: a known device, nothing new.
    signedIn(await w.attempt(PASSWORD, { device: first.deviceToken }));
    expect(w.trail().slice(2)).toStrictEqual(["sign_in.success"]);
    expect(w.notified).toHaveLength(1);
    // Another account's credential on the same browser: new for this account, with an id of its own.
    const others = await w.enroll("other");
    const mine = signedIn(await w.attempt(PASSWORD, { device: others }));
    expect(w.trail().at(-1)).toBe("sign_in.new_device");
    expect(w.devices.open(mine.deviceToken)!.deviceId).not.toBe(w.devices.open(others)!.deviceId);
    // Failures and refusals are no new device.
    const before = w.notified.length;
    await w.attempt("wrong");
    expect(w.notified).toHaveLength(before);
  });

  it("with a second factor: no credential until it passes; then issued (Yeep, same request) or at completion (Cosync), renewed when presented", async () => {
    const w = await world("memory", {}, true);
    const code = (offsetMs = 0) => generate({ secret: TOTP_SECRET, epoch: Math.floor((w.clock.now() + offsetMs) / 1000) });
    const pending = await w.attempt(PASSWORD);
    expect(pending).toMatchObject({ ok: true, value: { status: "second_factor_required" } });
    expect((pending as { value: object }).value).not.toHaveProperty("deviceToken");
    expect(w.notified).toHaveLength(0);
    const yeep = signedIn(await w.attempt(PASSWORD, { extra: { secondFactor: { type: "TOTP", token: await code() } } }));
    expect(w.notified).toHaveLength(1);

    const started = await w.attempt(PASSWORD, { device: yeep.deviceToken, extra: { continueWithLoginToken: true } });
    const loginToken = (started as { value: { loginToken: string } }).value.loginToken;
    const done = signedIn(
      await w.signIn.complete({ ctx: { ...UNKNOWN_CONTEXT, deviceToken: yeep.deviceToken }, app: await w.active(), loginToken, code: await code(30_000) }, w.issue),
    );
    expect(w.devices.open(done.deviceToken)).toMatchObject({ deviceId: w.devices.open(yeep.deviceToken)!.deviceId, login: "wile" });
    expect(w.notified).toHaveLength(1);
  });
});
