// Migration and key management: an import (1k accounts here; `npm run test:import-10k` runs 10k) with the Cosync original's bcrypt(md5hex)
// hashes (signed in, then upgraded to argon2id), signing-key rotation with old tokens valid until
// they expire, and revocation of all of an account's sessions.
import { hash as argon2 } from "@node-rs/argon2";
import bcrypt from "bcryptjs";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { AdminService } from "../gen/signin/admin/v1/admin_pb.js";
import { openDatabase } from "../src/stores/postgres/database.js";
import { APP_TOKENS, COSYNC_APPS, COSYNC_USERS, cosync, md5, WILE } from "./support/cosync.js";
import { COYOTE, dropSharedSchema, post, startTestService, uniqueName } from "./support/service.js";

const ADMIN_TOKEN = "admin-token-for-tests-0123456789abcdef";
const admin = (url: string) =>
  createClient(
    AdminService,
    createConnectTransport({
      baseUrl: url,
      httpVersion: "1.1",
      interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${ADMIN_TOKEN}`), next(req))],
    }),
  );

function runCli(url: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/signin.ts", ...args], {
      env: { ...process.env, SIGNIN_URL: url, ADMIN_TOKEN },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

// The 10k-account run takes ~90 s on 2 cores: kept out of the CI suite, behind its own script.
const ACCOUNTS = Number(process.env.IMPORT_ACCOUNTS ?? 1000);

describe("import", () => {
  it(`${ACCOUNTS} accounts with Cosync bcrypt(md5hex) hashes and argon2i ones: imported, signed in, upgraded to argon2id`, async () => {
    const cosyncHash = await bcrypt.hash(md5("imported-pw"), 10);
    const argon2i = await argon2("other-system-pw", { algorithm: 1, memoryCost: 8192, timeCost: 3, parallelism: 1 } as never);
    const lines: string[] = [];
    for (let i = 0; i < ACCOUNTS - 10; i++) lines.push(JSON.stringify({ app: "acme", handle: `user${i}@acme.com`, passwordHash: cosyncHash, metadata: { user_data: { role: "r" } } }));
    for (let i = 0; i < 5; i++) lines.push(JSON.stringify({ username: `legacy${i}`, passwordHash: argon2i }));
    lines.push("{not json", JSON.stringify({ app: "acme", passwordHash: cosyncHash }), JSON.stringify({ app: "nope", username: "x", passwordHash: cosyncHash }));
    lines.push(JSON.stringify({ app: "acme", username: "y", passwordHash: "plain-text" }), JSON.stringify({ app: "acme", username: "z" }));
    const file = join(mkdtempSync(join(tmpdir(), "signin-import-")), "accounts.jsonl");
    writeFileSync(file, lines.join("\n") + "\n");

    const env = { DATA_DIR: mkdtempSync(join(tmpdir(), "signin-data-")), DATABASE_SCHEMA: uniqueName("import"), ADMIN_TOKEN };
    const svc = await startTestService(env, COSYNC_USERS, COSYNC_APPS);
    try {
      const first = await runCli(svc.url, "--json", "import", file);
      expect(JSON.parse(first.stdout)).toStrictEqual({
        created: ACCOUNTS - 5,
        updated: 0,
        failed: 5,
        failures: [
          { line: ACCOUNTS - 4, reason: "not valid JSON" },
          { line: ACCOUNTS - 3, reason: "username is required" },
          { line: ACCOUNTS - 2, reason: 'unknown app "nope"' },
          { line: ACCOUNTS - 1, reason: "passwordHash is not an argon2 or bcrypt PHC string" },
          { line: ACCOUNTS, reason: "passwordHash or password is required" },
        ],
      });
      expect(first.code).toBe(1); // some lines failed

      const login = (handle: string, password: string) => cosync(svc.url, "login", { handle, password: md5(password) }, { "app-token": APP_TOKENS.acme });
      expect((await login(`user${ACCOUNTS - 20}@acme.com`, "imported-pw")).status).toBe(200);
      expect((await login(`user${ACCOUNTS - 21}@acme.com`, "wrong")).json.code).toBe(600);
      expect((await post(`${svc.url}/api/session.setCookie`, { user: "legacy3", password: "other-system-pw" })).json.ok).toBe(true);

      const again = await runCli(svc.url, "import", file);
      expect(again.stdout).toContain(`import of ${file}: 0 created, ${ACCOUNTS - 5} updated, 5 failed`);
    } finally {
      await svc.close();
    }

    const db = await openDatabase({ url: process.env.DATABASE_URL, dataDir: env.DATA_DIR, schema: env.DATABASE_SCHEMA });
    try {
      const hashOf = async (username: string) =>
        (await db.query<{ password_hash: string }>("SELECT password_hash FROM accounts WHERE username = $1", [username]))[0]!.password_hash;
      // The re-import wrote the bcrypt hash back, so sign in once more before looking.
      expect(await hashOf("user1@acme.com")).toBe(cosyncHash);
    } finally {
      await db.close();
    }
    const svc2 = await startTestService({ ...env }, COSYNC_USERS, COSYNC_APPS);
    try {
      expect((await cosync(svc2.url, "login", { handle: "user1@acme.com", password: md5("imported-pw") }, { "app-token": APP_TOKENS.acme })).status).toBe(200);
      expect((await post(`${svc2.url}/api/session.setCookie`, { user: "legacy1", password: "other-system-pw" })).json.ok).toBe(true);
    } finally {
      await svc2.close();
    }
    const db2 = await openDatabase({ url: process.env.DATABASE_URL, dataDir: env.DATA_DIR, schema: env.DATABASE_SCHEMA });
    try {
      const rows = await db2.query<{ username: string; password_hash: string }>(
        "SELECT username, password_hash FROM accounts WHERE username IN ('user1@acme.com', 'legacy1', 'user2@acme.com') ORDER BY username",
      );
      expect(rows.map((r) => [r.username, r.password_hash.slice(0, 30)])).toStrictEqual([
        ["legacy1", "$argon2id$v=19$m=19456,t=2,p=1"],
        ["user1@acme.com", "$argon2id$v=19$m=19456,t=2,p=1"],
        ["user2@acme.com", cosyncHash.slice(0, 30)], // not signed in: still the imported hash
      ]);
    } finally {
      await db2.close();
      await dropSharedSchema(env.DATABASE_SCHEMA);
    }
  }, 120_000);
});

describe("signing keys and sessions", () => {
  it("after a rotation, old tokens keep working until they expire and new ones carry the new kid", async () => {
    const svc = await startTestService({ ADMIN_TOKEN }, [...COSYNC_USERS, COYOTE], COSYNC_APPS);
    try {
      const before = (await post(`${svc.url}/api/session.issueToken`, { user: "coyote", password: COYOTE.password })).json.token;
      const oldJwt = (await cosync(svc.url, "login", { handle: WILE.handle, password: md5(WILE.password) }, { "app-token": APP_TOKENS.acme })).json.jwt;

      const { kid } = await admin(svc.url).rotateSigningKey({});
      const { kid: appKid } = await admin(svc.url).rotateSigningKey({ appId: "acme" });
      expect(kid).not.toBe(decodeProtectedHeader(before).kid);

      const after = (await post(`${svc.url}/api/session.issueToken`, { user: "coyote", password: COYOTE.password })).json.token;
      expect(decodeProtectedHeader(after).kid).toBe(kid);
      const info = (t: string) => post(`${svc.url}/api/user.info`, {}, { authorization: `Bearer ${t}` });
      expect((await info(before)).json.ok).toBe(true);
      expect((await info(after)).json.ok).toBe(true);
      expect((await post(`${svc.url}/api/session.refreshToken`, { token: before })).json.ok).toBe(true);

      const jwksRes = await fetch(`${svc.url}/.well-known/jwks.json`);
      expect(jwksRes.headers.get("cache-control")).toMatch(/max-age=\d+/);
      const kids = ((await jwksRes.json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
      expect(kids).toEqual(expect.arrayContaining([kid, decodeProtectedHeader(before).kid, appKid, decodeProtectedHeader(oldJwt).kid]));
      const jwks = createRemoteJWKSet(new URL(`${svc.url}/.well-known/jwks.json`));
      const newJwt = (await cosync(svc.url, "login", { handle: WILE.handle, password: md5(WILE.password) }, { "app-token": APP_TOKENS.acme })).json.jwt;
      expect(decodeProtectedHeader(newJwt).kid).toBe(appKid);
      for (const jwt of [oldJwt, newJwt]) expect((await jwtVerify(jwt, jwks, { audience: "acme-realm", currentDate: new Date(svc.clock.now()) })).payload.sub).toBe(WILE.handle);
    } finally {
      await svc.close();
    }
  });

  it("RevokeSessions ends every session token and access token of the account; new sign-ins work", async () => {
    const svc = await startTestService({ ADMIN_TOKEN }, [COYOTE]);
    try {
      const issue = async () => (await post(`${svc.url}/api/session.issueToken`, { user: "coyote", password: COYOTE.password })).json.token;
      const [a, b] = [await issue(), await issue()];
      svc.clock.advance(1000);
      await admin(svc.url).revokeSessions({ id: COYOTE.id });
      for (const t of [a, b]) expect((await post(`${svc.url}/api/user.info`, {}, { authorization: `Bearer ${t}` })).json.error.code).toBe(10000);
      expect((await post(`${svc.url}/api/session.refreshToken`, { token: a })).json.error.code).toBe(10029);
      svc.clock.advance(1000);
      expect((await post(`${svc.url}/api/user.info`, {}, { authorization: `Bearer ${await issue()}` })).json.ok).toBe(true);
      const err = await admin(svc.url).revokeSessions({ id: "ffffffffffffffffffffffff" }).then(() => null, (e) => ConnectError.from(e));
      expect(err?.code).toBe(Code.NotFound);
    } finally {
      await svc.close();
    }
  });
});
