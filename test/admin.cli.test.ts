// The `signin` CLI end to end against a running service (spawned, as the CLI's synchronous runs
// would block an in-process one): apps, users, TOTP, audit, keys; clear errors and exit codes.
// Without ADMIN_TOKEN there is no admin API at all.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../gen/signin/admin/v1/admin_pb.js";
import { cosync, md5 } from "./support/cosync.js";
import { ADMIN_TOKEN, cli } from "./support/cli.js";
import { spawnService } from "./support/spawn.js";
import { bootstrapFile, post, startTestService, testEnv } from "./support/service.js";

describe("signin CLI", () => {
  let url: string;
  let stop: () => Promise<void>;
  beforeAll(async () => {
    const env = { ...process.env, ...testEnv({ SIGNIN_BOOTSTRAP: bootstrapFile({ users: [] }), ADMIN_TOKEN }) };
    const svc = await spawnService(env);
    url = svc.url;
    stop = async () => void (await svc.stop());
  });
  afterAll(() => stop?.());

  it("creates an app and a user that can then sign in; deactivation and revocation take effect", async () => {
    const app = await cli(url, "--json", "apps", "create", "acme", "--prehash", "md5", "--realm", "acme-realm", "--metadata", "role:role");
    expect(app.code).toBe(0);
    const { appToken } = app.json();
    expect(appToken).toMatch(/^[\w-]{43}$/);
    expect((await cli(url, "apps", "list")).stdout).toMatch(/^acme\tactive\t2fa=none\taud=acme-realm/m);

    const user = await cli(url, "--json", "users", "create", "--app", "acme", "--username", "wile@acme.com", "--password", "s3cret-pw!", "--email", "wile@acme.com");
    expect(user.code).toBe(0);
    const id = user.json().account.id as string;
    const login = () => cosync(url, "login", { handle: "wile@acme.com", password: md5("s3cret-pw!") }, { "app-token": appToken });
    const first = await login();
    expect(first.status).toBe(200);

    expect((await cli(url, "users", "list", "--app", "acme")).stdout).toContain(`${id}\twile@acme.com`);
    expect((await cli(url, "users", "revoke", id)).stdout).toContain("revoked");
    expect((await cosync(url, "getUser", null, { "access-token": first.json["access-token"] })).json.code).toBe(405);

    expect((await cli(url, "users", "deactivate", id)).code).toBe(0);
    expect((await login()).json.code).toBe(404);
    expect((await cli(url, "users", "activate", id)).code).toBe(0);
    expect((await cli(url, "users", "set-password", id, "--password", "n3w-passw0rd!")).code).toBe(0);
    expect((await cosync(url, "login", { handle: "wile@acme.com", password: md5("n3w-passw0rd!") }, { "app-token": appToken })).status).toBe(200);

    const audit = (await cli(url, "users", "audit", id)).stdout;
    expect(audit).toMatch(/sign_in\.success/);
    expect(audit).toMatch(/sign_in\.failure\tdeactivated/);

    expect((await cli(url, "apps", "suspend", "acme")).stdout).toContain("acme: suspended");
    expect((await login()).json.code).toBe(402);
  });

  it("the README's flow: an app with required metadata, a user created with it signs in and gets the claim", async () => {
    const app = await cli(url, "--json", "apps", "create", "readme", "--prehash", "md5", "--two-factor", "google", "--realm", "readme-realm", "--metadata", "user_data.role:role:required");
    expect(app.code).toBe(0);
    const { appToken } = app.json();
    const create = (handle: string, ...more: string[]) =>
      cli(url, "--json", "users", "create", "--app", "readme", "--username", handle, "--password", "catch-the-b1rd$", "--email", handle, ...more);
    const login = (handle: string) => cosync(url, "login", { handle, password: md5("catch-the-b1rd$") }, { "app-token": appToken });
    const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString());

    const wile = await create("wile@readme.io", "--metadata", "user_data.role=admin");
    expect(wile.code).toBe(0);
    expect(wile.json().account.metadata).toStrictEqual({ user_data: { role: "admin" } });
    const first = await login("wile@readme.io");
    expect(first.status).toBe(200);
    expect(Object.keys(first.json).sort()).toStrictEqual(["access-token", "device-token", "jwt"]); // device-token: issue 16
    expect(claims(first.json.jwt)).toMatchObject({ aud: "readme-realm", sub: "wile@readme.io", user_data: { role: "admin" } });

    // Without the required metadata no token is issued; `users update` supplies it.
    const bare = await create("bare@readme.io");
    expect((await login("bare@readme.io")).json.code).toBe(604);
    const update = await cli(url, "users", "update", bare.json().account.id, "--metadata-json", '{"user_data":{"level":3}}', "--metadata", "user_data.role=editor", "--full-name", "Bare");
    expect(update.code).toBe(0);
    expect(update.stdout).toContain("set fullName, metadata");
    const second = await login("bare@readme.io");
    expect(claims(second.json.jwt).user_data).toStrictEqual({ role: "editor" }); // undeclared metadata (level) stays out
    expect((await cli(url, "--json", "users", "list", "--app", "readme")).json().accounts.find((a: { username: string }) => a.username === "bare@readme.io")).toMatchObject({
      fullName: "Bare",
      metadata: { user_data: { level: 3, role: "editor" } },
    });
  });

  it("unknown options, options of another command and malformed values exit 2 with the usage; nothing is sent", async () => {
    for (const args of [
      ["users", "create", "--username", "x", "--password", "long-enough", "--metadta", "a=b"],
      ["users", "create", "--username", "x", "--password", "long-enough", "--name", "X"],
      ["users", "deactivate", "ffffffffffffffffffffffff", "--password", "long-enough"],
      ["apps", "update", "acme", "--prehash", "md5"],
      ["users", "create", "--username", "x", "--password", "long-enough", "--metadata", "role"],
      ["users", "create", "--username", "x", "--password", "long-enough", "--metadata-json", "[1]"],
      ["apps", "update", "acme", "--jwt-hours", "twelve"],
      ["users", "revoke", "a", "b"],
    ]) {
      const out = await cli(url, ...args);
      expect({ args, code: out.code }).toStrictEqual({ args, code: 2 });
      expect(out.stderr).toContain("Usage: signin");
    }
    expect((await cli(url, "users", "create", "--username", "x", "--password", "long-enough", "--name", "X")).stderr).toContain("users create does not take --name");
    expect((await cli(url, "--json", "users", "list")).json().accounts ?? []).not.toContainEqual(expect.objectContaining({ username: "x" }));
  });

  it("apps update prints what changed; audit of an unknown account and a short password are refused", async () => {
    expect((await cli(url, "apps", "create", "changing")).code).toBe(0);
    const out = await cli(url, "apps", "update", "changing", "--jwt-hours", "12", "--name", "Changing Inc");
    expect(out.code).toBe(0);
    expect(out.stdout).toBe("app changing: active\n  name: changing -> Changing Inc\n  jwtExpirationHours: 24 -> 12\n");
    expect((await cli(url, "apps", "update", "changing", "--jwt-hours", "12")).stdout).toContain("(nothing changed)");

    const audit = await cli(url, "users", "audit", "ffffffffffffffffffffffff");
    expect(audit.code).toBe(1);
    expect(audit.stderr).toContain('signin: account "ffffffffffffffffffffffff" not found (NotFound)');

    const id = (await cli(url, "--json", "users", "create", "--username", "pat", "--password", "long-enough")).json().account.id;
    const short = await cli(url, "users", "set-password", id, "--password", "short");
    expect(short.code).toBe(1);
    expect(short.stderr).toContain("signin: password must be at least 8 characters (InvalidArgument)");
    expect((await cli(url, "users", "create", "--username", "tiny", "--password", "1234567")).stderr).toContain("password must be at least 8 characters");
  });

  it("--remember-device-days sets an app's remembered-device period (create and update); bad values are refused", async () => {
    const created = await cli(url, "--json", "apps", "create", "remembering", "--remember-device-days", "14");
    expect(created.code).toBe(0);
    expect(created.json().app.rememberDeviceDays).toBe(14);
    const out = await cli(url, "apps", "update", "remembering", "--remember-device-days", "0");
    expect(out.stdout).toBe("app remembering: active\n  rememberDeviceDays: 14 -> 0\n");
    expect((await cli(url, "apps", "update", "remembering", "--remember-device-days", "seven")).code).toBe(2);
    const tooLong = await cli(url, "apps", "update", "remembering", "--remember-device-days", "366");
    expect(tooLong.code).toBe(1);
    expect(tooLong.stderr).toContain("rememberDeviceDays must be a whole number of days (0 to 365; 0: off) (InvalidArgument)");
    // The service's own default app remembers devices for 30 days.
    expect((await cli(url, "--json", "apps", "list")).json().apps.find((a: { id: string }) => a.id === "default")).toMatchObject({ rememberDeviceDays: 30 });
  });

  it("totp enroll prints a QR code and the secret; keys rotate names the new key", async () => {
    const user = (await cli(url, "--json", "users", "create", "--username", "coyote", "--password", "catch-the-b1rd$")).json();
    const out = await cli(url, "totp", "enroll", user.account.id);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("▀"); // the terminal QR code
    expect(out.stdout).toMatch(/secret: [A-Z2-7]{16,}/);
    expect((await post(`${url}/api/session.setCookie`, { user: "coyote", password: "catch-the-b1rd$" })).json.error.code).toBe(10034);
    expect((await cli(url, "keys", "rotate")).stdout).toMatch(/^new signing key [\w-]+/);
  });

  it("clear errors: a wrong token exits 1, bad usage exits 2", async () => {
    const wrong = spawnSync(process.execPath, ["--import", "tsx", "src/cli/signin.ts", "apps", "list"], {
      env: { ...process.env, SIGNIN_URL: url, ADMIN_TOKEN: "x".repeat(40) },
      encoding: "utf8",
    });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain("signin: admin token required (Unauthenticated)");
    const bad = await cli(url, "apps", "frobnicate");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown command "apps frobnicate"');
    expect((await cli(url, "users", "revoke", "ffffffffffffffffffffffff")).stderr).toMatch(/not found \(NotFound\)/);
  });
});

describe("without ADMIN_TOKEN", () => {
  it("there is no admin API", async () => {
    const svc = await startTestService({ ADMIN_TOKEN: "" });
    try {
      const admin = createClient(AdminService, createConnectTransport({ baseUrl: svc.url, httpVersion: "1.1" }));
      const err = await admin.listApps({}, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).then(() => null, (e) => ConnectError.from(e));
      expect([Code.NotFound, Code.Unimplemented]).toContain(err?.code);
    } finally {
      await svc.close();
    }
  });
});
