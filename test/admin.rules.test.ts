// The admin core's rules, fast: no server, PGlite in memory, the memory store and a manual clock.
// App-id rule and defaults, unknown apps and accounts, revocation on deactivation, factor reset, passwords.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import type { Admin } from "../src/core/admin/admin.js";
import { appTokenHash, defaultApp, type App } from "../src/core/apps/app.js";
import type { RecentAudit } from "../src/core/audit.js";
import { parseBootstrap } from "../src/core/bootstrap.js";
import type { ManualClock } from "../src/core/clock.js";
import type { PasswordHasher } from "../src/core/password/hasher.js";
import { passwordSecret } from "../src/core/password/secret.js";
import { UNKNOWN_CONTEXT } from "../src/core/request-context.js";
import type { Revocations } from "../src/core/sessions/revocations.js";
import { PostgresAccountStore } from "../src/stores/postgres/accounts.js";
import { PostgresAppStore } from "../src/stores/postgres/apps.js";
import type { Database } from "../src/stores/postgres/database.js";
import { adminCore, failure, value } from "./support/admin-core.js";

const NO_ACCOUNT = "ffffffffffffffffffffffff";

describe("admin rules", () => {
  let core: Awaited<ReturnType<typeof adminCore>>;
  let db: Database;
  let clock: ManualClock;
  let hasher: PasswordHasher;
  let apps: PostgresAppStore;
  let accounts: PostgresAccountStore;
  let revocations: Revocations;
  let recentAudit: RecentAudit;
  let admin: Admin;

  beforeAll(async () => {
    core = await adminCore();
    ({ db, clock, hasher, apps, accounts, revocations, recentAudit, admin } = core);
  });
  afterAll(() => core?.close());

  const newAccount = async (username: string, appId?: string) => value(await admin.accounts.create({ appId, username, password: "password-" + username }));
  const keyCount = async (appId: string) =>
    (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM signing_keys WHERE purpose LIKE $1", [`%${appId}%`]))[0]!.n;

  it("a new app takes the defaults, gets a token that finds it and an RS256 key pair", async () => {
    const { app, appToken } = value(await admin.apps.create({ id: "acme", metadataFields: [{ path: "user_data.role" }] }));
    expect(app).toMatchObject({
      id: "acme",
      name: "acme",
      status: "active",
      twoFactor: "none",
      realmAppId: "acme",
      jwtExpirationHours: 24,
      passwordPrehash: "none",
      metadataFields: [{ path: "user_data.role", fieldName: "user_data.role", required: false }],
      rememberDeviceDays: 0,
    });
    expect((await apps.findByTokenHash(appTokenHash(appToken)))?.id).toBe("acme");
    expect(await keyCount("acme")).toBe(1);
  });

  it("a second app with the same id is refused, and the first keeps its token", async () => {
    const { appToken } = value(await admin.apps.create({ id: "dup" }));
    const again = failure(await admin.apps.create({ id: "dup", name: "Other" }));
    expect(again).toMatchObject({ reason: "APP_ALREADY_EXISTS", message: 'app "dup" exists' });
    expect(await apps.findByTokenHash(appTokenHash(appToken))).toMatchObject({ id: "dup", name: "dup" });
  });

  it.each([
    [{ id: "" }, "app.id", "app.id: letters, digits, _ . - (up to 64)"],
    [{ id: "-acme" }, "app.id", "app.id: letters, digits, _ . - (up to 64)"],
    [{ id: "a".repeat(65) }, "app.id", "app.id: letters, digits, _ . - (up to 64)"],
    [{ id: "ok", status: "paused" }, "app.status", "app.status must be one of active, suspended, deleted"],
    [{ id: "ok", twoFactor: "sms" }, "app.twoFactor", "app.twoFactor must be one of none, phone, google"],
    [{ id: "ok", passwordPrehash: "sha1" }, "app.passwordPrehash", "app.passwordPrehash must be none or md5"],
    [{ id: "ok", jwtExpirationHours: -1 }, "app.jwtExpirationHours", "app.jwtExpirationHours must be a whole number of hours (1 to 8760)"],
    [{ id: "ok", rememberDeviceDays: -1 }, "app.rememberDeviceDays", "app.rememberDeviceDays must be a whole number of days (0 to 365; 0: off)"],
    [{ id: "ok", rememberDeviceDays: 366 }, "app.rememberDeviceDays", "app.rememberDeviceDays must be a whole number of days (0 to 365; 0: off)"],
    [{ id: "ok", rememberDeviceDays: 1.5 }, "app.rememberDeviceDays", "app.rememberDeviceDays must be a whole number of days (0 to 365; 0: off)"],
    [{ id: "ok", metadataFields: [{ path: "a..b" }] }, "app.metadataFields[0].path", 'app.metadataFields[0].path must be a dotted path, e.g. "user_data.role"'],
  ])("an app spec %j is refused as INVALID_REQUEST naming %s", async (spec, field, message) => {
    const f = failure(await admin.apps.create(spec));
    expect(f).toMatchObject({ reason: "INVALID_REQUEST", message, fieldViolations: [{ field, description: message }] });
    expect(await apps.findById(spec.id)).toBeNull();
  });

  it("an update checks the same values and keeps what it does not name", async () => {
    value(await admin.apps.create({ id: "upd", twoFactor: "google" }));
    expect(failure(await admin.apps.update("upd", { status: "paused" })).message).toBe("status must be one of active, suspended, deleted");
    const { app: updated } = value(await admin.apps.update("upd", { status: "suspended" }));
    expect(updated).toMatchObject({ status: "suspended", twoFactor: "google", name: "upd" });
  });

  it("rotating the app token retires the old one", async () => {
    const { appToken } = value(await admin.apps.create({ id: "rot" }));
    const fresh = value(await admin.apps.rotateToken("rot"));
    expect(await apps.findByTokenHash(appTokenHash(appToken))).toBeNull();
    expect((await apps.findByTokenHash(appTokenHash(fresh)))?.id).toBe("rot");
  });

  it("an unknown app is APP_NOT_FOUND for every call that names one; an empty id means the default app", async () => {
    const expected = { reason: "APP_NOT_FOUND", message: 'app "nope" not found' };
    expect(failure(await admin.apps.update("nope", {}))).toMatchObject(expected);
    expect(failure(await admin.apps.rotateToken("nope"))).toMatchObject(expected);
    expect(failure(await admin.apps.rotateSigningKey("nope"))).toMatchObject(expected);
    expect(failure(await admin.accounts.create({ appId: "nope", username: "x", password: "y" }))).toMatchObject(expected);
    expect(failure(await admin.accounts.list("nope", "", 10))).toMatchObject(expected);
    expect((await newAccount("in-default")).appId).toBe("default");
  });

  it("an account needs a username and a password", async () => {
    const f = failure(await admin.accounts.create({ username: " ", password: "" }));
    expect(f).toMatchObject({ reason: "INVALID_REQUEST", message: "username is required" });
    expect(f.fieldViolations?.map((v) => v.field)).toStrictEqual(["username", "password"]);
  });

  it("an existing username or email is refused, never overwritten (also when two creates race, and on update)", async () => {
    const first = value(await admin.accounts.create({ username: "Taken", email: "taken@acme.com", password: "first-pw" }));
    const expected = { reason: "LOGIN_TAKEN", message: 'username or email already used in app "default"' };
    expect(failure(await admin.accounts.create({ username: "taken", password: "other-pw" }))).toMatchObject(expected);
    expect(failure(await admin.accounts.create({ username: "someone", email: "TAKEN@acme.com", password: "other-pw" }))).toMatchObject(expected);
    const raced = await Promise.all([0, 1].map(() => admin.accounts.create({ username: "racer", password: "racer-pw" })));
    expect(raced.map((r) => (r.ok ? "created" : r.failure.reason)).sort()).toStrictEqual(["LOGIN_TAKEN", "created"]);
    const other = await newAccount("other-one");
    expect(failure(await admin.accounts.update(other.id, { email: "taken@acme.com" })).reason).toBe("LOGIN_TAKEN");
    expect(await hasher.verify((await accounts.findById(first.id))!.passwordHash, "first-pw")).toMatchObject({ ok: true });
  });

  it("an unknown account is ACCOUNT_NOT_FOUND", async () => {
    const expected = { reason: "ACCOUNT_NOT_FOUND", message: `account "${NO_ACCOUNT}" not found` };
    expect(failure(await admin.accounts.update(NO_ACCOUNT, { fullName: "x" }))).toMatchObject(expected);
    expect(failure(await admin.accounts.setPassword(NO_ACCOUNT, "long-enough"))).toMatchObject(expected);
    expect(failure(await admin.accounts.enrollTotp(NO_ACCOUNT))).toMatchObject(expected);
    expect(failure(await admin.accounts.resetSecondFactors(NO_ACCOUNT))).toMatchObject(expected);
    expect(failure(await admin.accounts.revokeSessions(NO_ACCOUNT))).toMatchObject(expected);
    expect(failure(await admin.accounts.auditEvents(NO_ACCOUNT))).toMatchObject(expected);
  });

  it("the password rule applies to creating an account, setting a password and importing one in clear", async () => {
    const short = { reason: "INVALID_REQUEST", message: "password must be at least 8 characters", fieldViolations: [{ field: "password", kind: "invalid" }] };
    expect(failure(await admin.accounts.create({ username: "shorty", password: "1234567" }))).toMatchObject(short);
    expect(await accounts.findByLogin("default", "shorty")).toBeNull();
    const account = await newAccount("longer");
    expect(failure(await admin.accounts.setPassword(account.id, "short"))).toMatchObject(short);
    expect(failure(await admin.accounts.setPassword(account.id, " ".repeat(12))).message).toBe("password must not be blank");
    expect(failure(await admin.accounts.setPassword(account.id, "x".repeat(1025))).message).toBe("password must be at most 1024 characters");
    expect(await hasher.verify((await accounts.findById(account.id))!.passwordHash, "password-longer")).toMatchObject({ ok: true });
    const imported = value(
      await admin.accounts.import([
        { line: 1, username: "imp-short", password: "short" },
        // A hash carries a password the user already had: not re-judged.
        { line: 2, username: "imp-hash", passwordHash: await hasher.hash("old") },
      ]),
    );
    expect(imported[0]).toStrictEqual({ line: 1, outcome: "failed", reason: "password must be at least 8 characters" });
    expect(imported[1]).toMatchObject({ line: 2, outcome: "created" });
  });

  it("an email must look like one, on create, update and import; an empty update removes it", async () => {
    const bad = { reason: "INVALID_REQUEST", message: "email is not an email address", fieldViolations: [{ field: "email" }] };
    expect(failure(await admin.accounts.create({ username: "mailer", email: "Mailer Person", password: "mailer-pw" }))).toMatchObject(bad);
    const account = value(await admin.accounts.create({ username: "mailer", email: "mailer@acme.com", password: "mailer-pw" }));
    expect(failure(await admin.accounts.update(account.id, { email: "mailer@localhost" }))).toMatchObject(bad);
    expect(value(await admin.accounts.update(account.id, { email: null })).email).toBeNull();
    const [imported] = value(await admin.accounts.import([{ line: 7, username: "imp-mail", email: "no-at-sign", password: "imported-pw" }]));
    expect(imported).toStrictEqual({ line: 7, outcome: "failed", reason: "email is not an email address" });
  });

  it("an app update answers the app as it was and as it is", async () => {
    value(await admin.apps.create({ id: "before-after", jwtExpirationHours: 24 }));
    const { app, previous } = value(await admin.apps.update("before-after", { jwtExpirationHours: 12, name: "B/A" }));
    expect([previous.jwtExpirationHours, app.jwtExpirationHours, previous.name, app.name]).toStrictEqual([24, 12, "before-after", "B/A"]);
  });

  it("remembered-device days: 0 (off) unless set, 0 to 365, changed by an update; the default app's defaults to 30", async () => {
    expect(value(await admin.apps.create({ id: "remembers", rememberDeviceDays: 365 })).app.rememberDeviceDays).toBe(365);
    expect(failure(await admin.apps.update("remembers", { rememberDeviceDays: 400 })).message).toBe("rememberDeviceDays must be a whole number of days (0 to 365; 0: off)");
    const { app, previous } = value(await admin.apps.update("remembers", { rememberDeviceDays: 0 }));
    expect([previous.rememberDeviceDays, app.rememberDeviceDays, (await apps.findById("remembers"))?.rememberDeviceDays]).toStrictEqual([365, 0, 0]);
    expect(value(await admin.apps.update("remembers", { name: "R" })).app.rememberDeviceDays).toBe(0);
    expect(defaultApp("any").rememberDeviceDays).toBe(30);
    expect((await apps.findById("default"))?.rememberDeviceDays).toBe(30);
    // The bootstrap file: DEFAULT_APP described without the field takes the default app's 30, any other app 0.
    const filed = (apps: object[]) => parseBootstrap(JSON.stringify({ apps: apps.map((a) => ({ appToken: "t".repeat(16), ...a })) }), "", "main").apps.map((a) => a.rememberDeviceDays);
    expect(filed([{ id: "main" }, { id: "other" }, { id: "main2", rememberDeviceDays: 7 }, { id: "main", rememberDeviceDays: 0 }])).toStrictEqual([30, 0, 7, 0]);
    expect(() => filed([{ id: "x", rememberDeviceDays: "7" }])).toThrow('apps[0]: "rememberDeviceDays" must be a number');
    expect(() => filed([{ id: "x", rememberDeviceDays: 366 }])).toThrow("apps[0].rememberDeviceDays must be a whole number of days (0 to 365; 0: off)");
  });

  it("deactivation revokes every session; other updates do not", async () => {
    const account = await newAccount("sleepy");
    clock.advance(1000);
    value(await admin.accounts.update(account.id, { fullName: "Sleepy" }));
    expect(await revocations.revokedAt(account.id)).toBe(0);
    clock.advance(1000);
    expect(value(await admin.accounts.update(account.id, { deactivated: true })).deactivated).toBe(true);
    expect(await revocations.revokedAt(account.id)).toBe(clock.now());
  });

  it("revoking sessions moves the revocation time", async () => {
    const account = await newAccount("revoked");
    clock.advance(5000);
    value(await admin.accounts.revokeSessions(account.id));
    expect(await revocations.revoked(account.id, clock.now() - 1)).toBe(true);
  });

  it("a second-factor reset clears TOTP and phone two-factor, and keeps the phone", async () => {
    const account = await newAccount("guarded");
    const { secret, uri } = value(await admin.accounts.enrollTotp(account.id));
    expect(uri).toContain(`secret=${secret}`);
    await accounts.setPhone(account.id, { phone: "+15555550100", phoneVerified: true, phoneTwoFactor: true });
    expect((await accounts.findById(account.id))?.totpSecret).toBe(secret);
    value(await admin.accounts.resetSecondFactors(account.id));
    expect(await accounts.findById(account.id)).toMatchObject({ totpSecret: null, phoneTwoFactor: false, phone: "+15555550100", phoneVerified: true });
  });

  it("a set password verifies, as typed and (md5 apps) as the Cosync clients send it; the old one no longer does", async () => {
    const { app } = value(await admin.apps.create({ id: "md5app", passwordPrehash: "md5" }));
    const account = await newAccount("wile", "md5app");
    value(await admin.accounts.setPassword(account.id, "n3w-passw0rd!"));
    const stored = (await accounts.findById(account.id))!.passwordHash;
    const verifies = async (app: App, password: string, form: "plain" | "md5hex") => (await hasher.verify(stored, passwordSecret(app, password, form))).ok;
    expect(await verifies(app, "n3w-passw0rd!", "plain")).toBe(true);
    expect(await verifies(app, "6c1b5a1ac0c44d2da7ee7a2b7e2aa8ab", "md5hex")).toBe(false);
    expect(await verifies(app, passwordSecret(app, "n3w-passw0rd!", "plain"), "md5hex")).toBe(true);
    expect(await verifies(app, "password-wile", "plain")).toBe(false);
    expect(failure(await admin.accounts.setPassword(account.id, "")).reason).toBe("INVALID_REQUEST");
  });

  it("lists accounts a page at a time", async () => {
    value(await admin.apps.create({ id: "paged" }));
    const made = [await newAccount("p1", "paged"), await newAccount("p2", "paged"), await newAccount("p3", "paged")];
    const first = value(await admin.accounts.list("paged", "", 2));
    expect(first.accounts).toHaveLength(2);
    const second = value(await admin.accounts.list("paged", first.nextPageToken, 2));
    expect(second.nextPageToken).toBe("");
    expect([...first.accounts, ...second.accounts].map((a) => a.id).sort()).toStrictEqual(made.map((a) => a.id).sort());
  });

  it("lists an account's audit events", async () => {
    const account = await newAccount("audited");
    recentAudit.record(UNKNOWN_CONTEXT, { event: "sign_in.failure", reason: "wrong_password", accountId: account.id });
    await new Promise((resolve) => setImmediate(resolve)); // the audit write is not awaited by design
    expect(value(await admin.accounts.auditEvents(account.id)).map((e) => e.reason)).toStrictEqual(["wrong_password"]);
  });

  it("import: records without an app go to the default app, an unknown app fails its record alone, batches are bounded", async () => {
    const results = value(
      await admin.accounts.import([
        { line: 1, username: "imported", password: "imported-pw" },
        { line: 2, appId: "nope", username: "lost", password: "imported-pw" },
      ]),
    );
    expect(results[0]).toMatchObject({ line: 1, outcome: "created" });
    expect((await accounts.findById(results[0]!.id!))?.appId).toBe("default");
    expect(results[1]).toStrictEqual({ line: 2, outcome: "failed", reason: 'unknown app "nope"' });
    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ line: i, username: `u${i}`, password: "imported-pw" }));
    expect(failure(await admin.accounts.import(tooMany)).message).toBe("at most 1000 records per call");
  });

  it("bootstrap file, DEFAULT_APP and the admin API agree on the app-id rule", async () => {
    const ids = ["a", "A.b_c-9", "a".repeat(64), "", "-a", ".a", "a b", "a/b", "é", "a".repeat(65)];
    for (const id of ids) {
      const admitted = (await admin.apps.create({ id })).ok;
      const inFile = (() => {
        try {
          parseBootstrap(JSON.stringify({ users: [], apps: [{ id, appToken: "t".repeat(16) }] }));
          return true;
        } catch {
          return false;
        }
      })();
      const asDefault = (() => {
        try {
          return loadConfig({ DEFAULT_APP: id }).defaultAppId === id;
        } catch {
          return false;
        }
      })();
      // DEFAULT_APP falls back to "default" when empty, so "" cannot be told apart there.
      expect({ id, inFile, asDefault: id === "" ? false : asDefault }).toStrictEqual({ id, inFile: admitted, asDefault: admitted });
    }
  });

  it("an app in the bootstrap file is the same app the admin API creates from the same spec", async () => {
    const spec = { id: "same", twoFactor: "phone", metadataFields: [{ path: "role", required: true }] };
    const [fromFile] = parseBootstrap(JSON.stringify({ users: [], apps: [{ ...spec, appToken: "t".repeat(16) }] })).apps;
    const { app } = value(await admin.apps.create(spec));
    const { appToken: _, ...filed } = fromFile!;
    expect({ ...app, tokenHash: undefined }).toStrictEqual({ ...filed, tokenHash: undefined });
  });
});
