// "Remember this device" in the sign-in decision, in the core alone (PGlite in memory, the
// in-process store, a manual clock): which presented device skips the second factor, which does
// not, how a device gets remembered, and what ends it; the proof a skipped factor leaves (none).
import { randomBytes } from "node:crypto";
import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { checkApp, type ActiveApp, type NewApp, type TwoFactorMode } from "../src/core/apps/app.js";
import type { AuditEvent } from "../src/core/audit.js";
import { ManualClock } from "../src/core/clock.js";
import { DeviceCredentials } from "../src/core/devices/device-credential.js";
import { DAY_MS, RememberedDevices } from "../src/core/devices/remembered-devices.js";
import { ok, type Result } from "../src/core/failure.js";
import { SignInLimits } from "../src/core/limits/sign-in-limits.js";
import { Challenges } from "../src/core/otp/challenges.js";
import type { SmsMessage } from "../src/core/otp/sms.js";
import { TotpVerifier } from "../src/core/otp/totp.js";
import { PasswordHasher } from "../src/core/password/hasher.js";
import type { RequestContext } from "../src/core/request-context.js";
import { Sealer } from "../src/core/secrets/sealer.js";
import { Revocations } from "../src/core/sessions/revocations.js";
import { SignIn, type Issue, type SignInMethod } from "../src/core/sign-in/sign-in.js";
import { memoryLimiters } from "../src/stores/limiters.js";
import { MemoryEphemeralStore } from "../src/stores/memory/ephemeral.js";
import { PostgresAccountStore } from "../src/stores/postgres/accounts.js";
import { PostgresAppStore } from "../src/stores/postgres/apps.js";
import { openDatabase, type Database } from "../src/stores/postgres/database.js";
import { migrate } from "../src/stores/postgres/migrations.js";
import { TOTP_SECRET } from "./support/service.js";

const PASSWORD = "right-password";
const hasher = new PasswordHasher({ memoryKiB: 19456, iterations: 2, parallelism: 1 });
const silent = { info() {}, warn() {}, error() {} };

let db: Database;
beforeAll(async () => {
  db = await openDatabase({ dataDir: "memory://", schema: "remember_flow" });
  await migrate(db);
});
afterAll(() => db?.close());

/** A fresh app remembering devices for `days`, with accounts "wile" (the second factor given) and "other" (TOTP). */
async function world(s: { days?: number; twoFactor?: TwoFactorMode } = {}) {
  const clock = new ManualClock(Math.floor(Date.now() / 30_000) * 30_000 + 5_000);
  const store = new MemoryEphemeralStore(clock);
  const accounts = new PostgresAccountStore(db, new Sealer(null));
  const apps = new PostgresAppStore(db);
  const appToken = randomBytes(24).toString("base64url");
  const phone = s.twoFactor === "phone";
  const app = await apps.upsert({
    id: `app-${randomBytes(6).toString("hex")}`,
    name: "Remember",
    status: "active",
    twoFactor: s.twoFactor ?? "google",
    realmAppId: "realm",
    jwtExpirationHours: 24,
    metadataFields: [],
    passwordPrehash: "none",
    appToken,
    rememberDeviceDays: s.days ?? 30,
  } satisfies NewApp);
  const passwordHash = await hasher.hash(PASSWORD);
  const newAccount = (username: string) =>
    accounts.upsert({
      appId: app.id,
      username,
      email: null,
      passwordHash,
      totpSecret: phone ? null : TOTP_SECRET,
      phone: phone ? "+15555550100" : null,
      phoneVerified: phone,
      phoneTwoFactor: phone,
    });
  const account = await newAccount("wile");
  const other = await newAccount("other");
  const events: AuditEvent[] = [];
  const sent: SmsMessage[] = [];
  const revocations = new Revocations(store, clock, 400 * DAY_MS);
  const devices = new DeviceCredentials(randomBytes(32), clock);
  const remembered = new RememberedDevices(store, revocations, clock);
  const signIn = new SignIn({
    apps,
    accounts,
    hasher,
    totp: new TotpVerifier(store, clock),
    limits: new SignInLimits(memoryLimiters(), loadConfig({}).limits),
    challenges: new Challenges(store, clock, 5, randomBytes(32)),
    sms: { send: async (m) => void sent.push(m) },
    audit: { record: (_ctx, e) => void events.push(e) },
    log: silent,
    devices,
    remembered,
  });
  const proofs: SignInMethod[] = [];
  const issue: Issue<string> = async (_a, _app, proof) => (proofs.push(proof), ok(async () => "credentials"));
  const ctxWith = (deviceToken?: string): RequestContext => ({ surface: "yeep", ip: "203.0.113.7", userAgent: "test", requestId: "", deviceToken });
  const active = async () => ((await signIn.appForToken(ctxWith(), appToken)) as { value: ActiveApp }).value;
  // Each code is accepted once: a sign-in that sends one moves the clock to the next 30-second step first.
  const code = () => (clock.advance(30_000), generate({ secret: TOTP_SECRET, epoch: Math.floor(clock.now() / 1000) }));
  /** Yeep-style: password (and the code, when `withCode`), from the device that presents `deviceToken`. */
  const yeep = async (o: { deviceToken?: string; withCode?: boolean; rememberDevice?: boolean; login?: string } = {}) =>
    signIn.withPassword(
      {
        ctx: ctxWith(o.deviceToken),
        app: { id: app.id, lookup: apps.findById(app.id) },
        login: o.login ?? "wile",
        password: PASSWORD,
        form: "plain",
        secondFactor: o.withCode ? { type: "TOTP", token: await code() } : undefined,
        rememberDevice: o.rememberDevice,
      },
      issue,
    );
  /** Cosync-style: the password step (a login token, or tokens at once), then the code with the token. */
  const cosyncLogin = async (deviceToken?: string) =>
    signIn.withPassword({ ctx: ctxWith(deviceToken), app: await active(), login: "wile", password: PASSWORD, form: "plain", continueWithLoginToken: true }, issue);
  const cosyncComplete = async (loginToken: string, c: string, o: { deviceToken?: string; rememberDevice?: boolean } = {}) =>
    signIn.complete({ ctx: ctxWith(o.deviceToken), app: await active(), loginToken, code: c, rememberDevice: o.rememberDevice }, issue);
  const trail = () => events.map((e) => [e.event, e.reason ?? null]).filter(([e]) => e !== "sign_in.new_device");
  return { app, apps, account, other, signIn, devices, remembered, revocations, clock, code, yeep, cosyncLogin, cosyncComplete, trail, events, proofs, sent };
}

type Outcome = Result<{ status: string; deviceToken?: string; loginToken?: string }>;
const statusOf = (r: Outcome) => (r.ok ? r.value.status : r.failure.reason);
const tokenOf = (r: Outcome) => {
  if (!r.ok || !r.value.deviceToken) throw new Error(`expected a device token, got ${JSON.stringify(r)}`);
  return r.value.deviceToken;
};

describe("a remembered device skips the second factor", () => {
  it("asked with the code (Yeep-style): the next sign-in from that device needs no code, audited; the proof names no second factor", async () => {
    const w = await world();
    const device = tokenOf(await w.yeep({ withCode: true, rememberDevice: true }));
    w.events.length = 0;
    const again = await w.yeep({ deviceToken: device });
    expect(statusOf(again)).toBe("signed_in");
    expect(w.trail()).toStrictEqual([
      ["second_factor.remembered", "TOTP"],
      ["sign_in.success", null],
    ]);
    // Not a step-up proof: the session or token it makes says no second factor was passed.
    expect(w.proofs.map((p) => p.secondFactor)).toStrictEqual(["TOTP", null]);
    // The device keeps its id (and stays remembered) with the credential this sign-in renewed.
    expect(w.devices.open(tokenOf(again))?.deviceId).toBe(w.devices.open(device)?.deviceId);
    expect(statusOf(await w.yeep({ deviceToken: tokenOf(again) }))).toBe("signed_in");
  });

  it("asked at the login token's step (Cosync-style): the next login answers the tokens at once, no login token, no SMS", async () => {
    const w = await world({ twoFactor: "phone" });
    const first = await w.cosyncLogin();
    expect(statusOf(first)).toBe("second_factor_required");
    const loginToken = (first as { value: { loginToken: string } }).value.loginToken;
    const device = tokenOf(await w.cosyncComplete(loginToken, w.sent[0]!.code, { rememberDevice: true }));
    const again = await w.cosyncLogin(device);
    expect(again).toMatchObject({ ok: true, value: { status: "signed_in" } });
    expect(w.sent).toHaveLength(1);
    expect(w.trail().slice(-2)).toStrictEqual([
      ["second_factor.remembered", "SMS"],
      ["sign_in.success", null],
    ]);
  });
});

describe("the second factor is still asked", () => {
  /** A device remembered for "wile", shown to skip the code once (the control each case below departs from). */
  const rememberedDevice = async (w: Awaited<ReturnType<typeof world>>) => {
    const device = tokenOf(await w.yeep({ withCode: true, rememberDevice: true }));
    expect(statusOf(await w.yeep({ deviceToken: device }))).toBe("signed_in");
    return device;
  };

  it.each([
    ["without the device credential", () => ({})],
    ["with a forged credential", (t: string) => ({ deviceToken: t.replace(/\.[^.]+$/, ".forged") })],
    ["with the credential of a device whose sign-in did not ask to be remembered", () => ({ fresh: true })],
    ["for another account, with a credential remembered for the first one", (t: string) => ({ deviceToken: t, login: "other" })],
  ] as const)("%s", async (_name, attempt) => {
    const w = await world();
    const device = await rememberedDevice(w);
    const a = attempt(device) as { deviceToken?: string; login?: string; fresh?: boolean };
    const deviceToken = a.fresh ? tokenOf(await w.yeep({ withCode: true })) : a.deviceToken;
    expect(statusOf(await w.yeep({ deviceToken, login: a.login }))).toBe("second_factor_required");
    expect(w.trail().at(-1)).toStrictEqual(["second_factor.required", "TOTP"]);
  });

  it("when the app's rememberDeviceDays is 0: the flag is ignored (no error, nothing stored); the same steps remember in an app with days", async () => {
    const off = await world({ days: 0 });
    const first = await off.yeep({ withCode: true, rememberDevice: true });
    expect(statusOf(first)).toBe("signed_in");
    expect(statusOf(await off.yeep({ deviceToken: tokenOf(first) }))).toBe("second_factor_required");
    expect(await off.remembered.list(off.account.id)).toStrictEqual([]);
    const on = await world({ days: 1 });
    await rememberedDevice(on);
    expect(await on.remembered.list(on.account.id)).toHaveLength(1);
  });

  it("when the app turns remembering off, or shortens it, after the device was remembered", async () => {
    const w = await world({ days: 30 });
    const device = await rememberedDevice(w);
    await w.apps.upsert({ ...w.app, appToken: "", rememberDeviceDays: 0 });
    expect(statusOf(await w.yeep({ deviceToken: device }))).toBe("second_factor_required");
    await w.apps.upsert({ ...w.app, appToken: "", rememberDeviceDays: 2 });
    expect(statusOf(await w.yeep({ deviceToken: device }))).toBe("signed_in");
    w.clock.advance(2 * DAY_MS);
    expect(statusOf(await w.yeep({ deviceToken: device }))).toBe("second_factor_required");
  });

  it("after the app's days; sign-ins that skipped the factor do not extend it", async () => {
    const w = await world({ days: 30 });
    const device = await rememberedDevice(w);
    w.clock.advance(29 * DAY_MS);
    expect(statusOf(await w.yeep({ deviceToken: device, rememberDevice: true }))).toBe("signed_in");
    w.clock.advance(DAY_MS);
    expect(statusOf(await w.yeep({ deviceToken: device }))).toBe("second_factor_required");
  });

  it("after the account's sessions are revoked (what a new password, a factor change or a deactivation does)", async () => {
    const w = await world();
    const device = await rememberedDevice(w);
    w.clock.advance(1);
    await w.revocations.revokeAll(w.account.id);
    expect(statusOf(await w.yeep({ deviceToken: device }))).toBe("second_factor_required");
  });

  it("after the user forgets the device", async () => {
    const w = await world();
    const device = await rememberedDevice(w);
    await w.remembered.forget(w.account.id, w.devices.open(device)!.deviceId);
    expect(statusOf(await w.yeep({ deviceToken: device }))).toBe("second_factor_required");
  });

  it("a code sent anyway is checked: a wrong one is refused on a remembered device too", async () => {
    const w = await world();
    const device = await rememberedDevice(w);
    const wrong = (await w.code()) === "000000" ? "111111" : "000000";
    const ctx = { surface: "yeep" as const, ip: "203.0.113.7", userAgent: "test", requestId: "", deviceToken: device };
    const step = { ctx, app: { id: w.app.id, lookup: w.apps.findById(w.app.id) }, login: "wile", password: PASSWORD, form: "plain" as const, secondFactor: { type: "TOTP", token: wrong } };
    expect(statusOf(await w.signIn.withPassword(step, async () => ok(async () => "credentials")))).toBe("INVALID_SECOND_FACTOR");
  });
});
