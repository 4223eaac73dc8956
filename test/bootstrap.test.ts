// SIGNIN_BOOTSTRAP: the file's apps and accounts created at start-up when missing, never changed
// once they exist (an operator's or a user's later change survives restarts); a bad file stops
// start-up with a message that names the problem.
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AdminService } from "../gen/signin/admin/v1/admin_pb.js";
import { loadConfig } from "../src/config.js";
import { startService } from "../src/service.js";
import { openDatabase } from "../src/stores/postgres/database.js";
import { APP_TOKENS, cosync, md5 } from "./support/cosync.js";
import { bootstrapFile, COYOTE, post, startTestService, testEnv, uniqueName, dropSharedSchema } from "./support/service.js";

const OK_USER = { username: "ok", password: "long-enough" };

describe("bootstrap", () => {
  it.each([
    ["not JSON", "{users:", /not valid JSON/],
    ["a misspelt key", { user: [] }, /unknown key "user": expected an object with a "users" array, an "apps" array, or both/],
    ["users not an array", { users: {} }, /"users" must be an array/],
    ["missing password", { users: [{ username: "a" }] }, /users\[0\]: "password" is required/],
    ["bad id", { users: [{ id: "123", username: "a", password: "long-enough" }] }, /users\[0\]: "id" must be 24/],
    ["bad TOTP secret", { users: [{ username: "a", password: "long-enough", totpSecret: "not base32!" }] }, /"totpSecret" must be base32/],
    ["a short password", { users: [OK_USER, { username: "b", password: "1234567" }] }, /users\[1\]: "password" must be at least 8 characters/],
    ["a blank password", { users: [{ username: "b", password: "         " }] }, /users\[0\]: "password" must not be blank/],
  ])("a file with %s stops start-up with a clear message", async (_name, doc, message) => {
    const file = typeof doc === "string" ? bootstrapFile(null).replace(/bootstrap\.json$/, "bad.json") : bootstrapFile(doc);
    if (typeof doc === "string") (await import("node:fs")).writeFileSync(file, doc);
    await expect(startService(loadConfig(testEnv({ SIGNIN_BOOTSTRAP: file })))).rejects.toThrow(message);
  });

  it("an entry error names the file and the entry's index: an invalid email", async () => {
    const file = bootstrapFile({ users: [OK_USER, { ...OK_USER, username: "b" }, { username: "c", email: "Wile E. Coyote", password: "long-enough" }] });
    await expect(startService(loadConfig(testEnv({ SIGNIN_BOOTSTRAP: file })))).rejects.toThrow(
      `SIGNIN_BOOTSTRAP ${file}: users[2]: "email" is not an email address`,
    );
  });

  it("a user of an unknown app is refused before anything is written, naming the file and the entry", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "signin-data-"));
    const env = { DATA_DIR: dataDir, DATABASE_SCHEMA: uniqueName("boot") };
    const app = { id: "fresh", appToken: "fresh-app-token-0123456789" };
    const file = bootstrapFile({ apps: [app], users: [OK_USER, { ...OK_USER, username: "lost", app: "nope" }] });
    await expect(startService(loadConfig(testEnv({ ...env, SIGNIN_BOOTSTRAP: file })))).rejects.toThrow(`SIGNIN_BOOTSTRAP ${file}: users[1]: unknown app "nope"`);
    const db = await openDatabase({ url: process.env.DATABASE_URL, dataDir, schema: env.DATABASE_SCHEMA });
    try {
      expect(await db.query("SELECT id FROM apps WHERE id = 'fresh'")).toStrictEqual([]);
      expect(await db.query("SELECT id FROM accounts")).toStrictEqual([]);
    } finally {
      await db.close();
      await dropSharedSchema(env.DATABASE_SCHEMA);
    }
  });

  it("two entries claiming one email are refused naming the second", async () => {
    const file = bootstrapFile({ users: [{ ...OK_USER, email: "same@acme.com" }, { ...OK_USER, username: "other", email: "same@acme.com" }] });
    await expect(startService(loadConfig(testEnv({ SIGNIN_BOOTSTRAP: file })))).rejects.toThrow(
      `SIGNIN_BOOTSTRAP ${file}: users[1]: username or email already used in app "default" by another account`,
    );
  });

  it("a file with only apps is accepted: the app answers its token", async () => {
    const file = bootstrapFile({ apps: [{ id: "acme", appToken: APP_TOKENS.acme, passwordPrehash: "md5" }] });
    const svc = await startService(loadConfig(testEnv({ SIGNIN_BOOTSTRAP: file })));
    try {
      // 600 (wrong credentials) is only answered once the app-token found its app; an unknown token is 400.
      const login = await cosync(svc.url, "login", { handle: "nobody@acme.com", password: md5("whatever-pw") }, { "app-token": APP_TOKENS.acme });
      expect(login.json.code).toBe(600);
    } finally {
      await svc.close();
    }
  });

  it("a missing file stops start-up naming the file", async () => {
    await expect(startService(loadConfig(testEnv({ SIGNIN_BOOTSTRAP: "/nonexistent/users.json" })))).rejects.toThrow(
      /SIGNIN_BOOTSTRAP: cannot read \/nonexistent\/users.json/,
    );
  });

  it("is idempotent: a second start with the same file keeps one account, its hash and an enrolled factor", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "signin-data-"));
    const schema = uniqueName("boot");
    const env = { DATA_DIR: dataDir, DATABASE_SCHEMA: schema };
    // The same database the service uses: the PGlite folder, or DATABASE_URL's server.
    const open = () => openDatabase({ url: process.env.DATABASE_URL, dataDir, schema });
    const snapshot = async () => {
      const db = await open();
      try {
        return await db.query<{ id: string; password_hash: string; totp_secret: string | null }>(
          "SELECT id, password_hash, totp_secret FROM accounts",
        );
      } finally {
        await db.close();
      }
    };
    const first = await startTestService(env, [COYOTE]);
    expect((await post(`${first.url}/api/session.setCookie`, { user: "coyote", password: COYOTE.password })).json.ok).toBe(true);
    await first.close();
    const before = await snapshot();
    expect(before).toHaveLength(1);
    // The user enrolls a factor after the bootstrap (written directly: enrollment is tested elsewhere).
    const db = await open();
    await db.query("UPDATE accounts SET totp_secret = 'JBSWY3DPEHPK3PXP'");
    await db.close();

    const second = await startTestService(env, [COYOTE]);
    await second.close();
    const after = await snapshot();
    await dropSharedSchema(schema);
    expect(after).toStrictEqual([{ ...before[0], totp_secret: "JBSWY3DPEHPK3PXP" }]);
  });

  it("the process exits non-zero with the message when started with a bad file", () => {
    const file = bootstrapFile({ users: [{ username: "x" }] });
    const out = spawnSync(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env: { ...process.env, ...testEnv({ SIGNIN_BOOTSTRAP: file }) },
      encoding: "utf8",
    });
    expect(out.status).toBe(1);
    expect(out.stderr).toMatch(/Configuration error: SIGNIN_BOOTSTRAP .*users\[0\]: "password" is required/);
  });

  it("never undoes a later change: a new password, a deactivation, a suspended app and a rotated app token survive a restart", async () => {
    const ADMIN_TOKEN = "admin-token-for-the-bootstrap-tests-0123";
    const env = { DATA_DIR: mkdtempSync(join(tmpdir(), "signin-data-")), DATABASE_SCHEMA: uniqueName("boot"), ADMIN_TOKEN };
    const apps = [
      { id: "acme", appToken: APP_TOKENS.acme, passwordPrehash: "md5" },
      { id: "beta", appToken: "beta-app-token-0123456789abcdef", passwordPrehash: "md5" },
    ];
    const users = [
      COYOTE,
      { username: "sleepy", password: "sleepy-password" },
      { app: "beta", handle: "b@beta.io", password: "beta-password" },
    ];
    const signIn = (url: string, user: string, password: string) => post(`${url}/api/session.setCookie`, { user, password });
    const first = await startTestService(env, users, apps);
    let betaToken: string;
    try {
      const admin = createClient(
        AdminService,
        createConnectTransport({ baseUrl: first.url, httpVersion: "1.1", interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${ADMIN_TOKEN}`), next(req))] }),
      );
      const ids = Object.fromEntries((await admin.listAccounts({})).accounts.map((a) => [a.username, a.id]));
      await admin.setPassword({ id: ids.coyote!, password: "a-new-passw0rd" });
      await admin.updateAccount({ id: ids.sleepy!, deactivated: true });
      await admin.updateApp({ id: "acme", status: "suspended" });
      betaToken = (await admin.rotateAppToken({ id: "beta" })).appToken;
    } finally {
      await first.close();
    }

    const second = await startTestService(env, users, apps);
    try {
      expect((await signIn(second.url, "coyote", COYOTE.password)).json).toMatchObject({ ok: false, error: { code: 10002 } });
      expect((await signIn(second.url, "coyote", "a-new-passw0rd")).json.ok).toBe(true);
      expect((await signIn(second.url, "sleepy", "sleepy-password")).json).toMatchObject({ ok: false, error: { code: 10022 } }); // deactivated
      const login = (token: string) => cosync(second.url, "login", { handle: "b@beta.io", password: md5("beta-password") }, { "app-token": token });
      expect((await cosync(second.url, "login", { handle: "x@acme.io", password: md5("whatever-pw") }, { "app-token": APP_TOKENS.acme })).json.code).toBe(402);
      expect((await login(apps[1]!.appToken)).status).toBe(400); // the file's token was rotated away
      expect(Object.keys((await login(betaToken)).json)).toContain("jwt");
      expect(second.logs.find((l) => l.msg === "bootstrap applied")).toMatchObject({ apps: 0, users: 0, existing: 5 });
    } finally {
      await second.close();
      await dropSharedSchema(env.DATABASE_SCHEMA);
    }
  });
});
