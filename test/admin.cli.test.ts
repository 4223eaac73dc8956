// The `signin` CLI end to end against a running service (spawned, as the CLI's synchronous runs
// would block an in-process one): apps, users, TOTP, audit, keys; clear errors and exit codes.
// Without ADMIN_TOKEN there is no admin API at all.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../gen/signin/admin/v1/admin_pb.js";
import { cosync, md5 } from "./support/cosync.js";
import { spawnService } from "./support/spawn.js";
import { bootstrapFile, post, startTestService, testEnv } from "./support/service.js";

const ADMIN_TOKEN = "admin-token-for-tests-0123456789abcdef";

function cli(url: string, ...args: string[]) {
  const out = spawnSync(process.execPath, ["--import", "tsx", "src/cli/signin.ts", ...args], {
    env: { ...process.env, SIGNIN_URL: url, ADMIN_TOKEN },
    encoding: "utf8",
  });
  return { code: out.status, stdout: out.stdout, stderr: out.stderr, json: () => JSON.parse(out.stdout) };
}

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
    const app = cli(url, "--json", "apps", "create", "acme", "--prehash", "md5", "--realm", "acme-realm", "--metadata", "role:role");
    expect(app.code).toBe(0);
    const { appToken } = app.json();
    expect(appToken).toMatch(/^[\w-]{43}$/);
    expect(cli(url, "apps", "list").stdout).toMatch(/^acme\tactive\t2fa=none\taud=acme-realm/m);

    const user = cli(url, "--json", "users", "create", "--app", "acme", "--username", "wile@acme.com", "--password", "s3cret!", "--email", "wile@acme.com");
    expect(user.code).toBe(0);
    const id = user.json().account.id as string;
    const login = () => cosync(url, "login", { handle: "wile@acme.com", password: md5("s3cret!") }, { "app-token": appToken });
    const first = await login();
    expect(first.status).toBe(200);

    expect(cli(url, "users", "list", "--app", "acme").stdout).toContain(`${id}\twile@acme.com`);
    expect(cli(url, "users", "revoke", id).stdout).toContain("revoked");
    expect((await cosync(url, "getUser", null, { "access-token": first.json["access-token"] })).json.code).toBe(405);

    expect(cli(url, "users", "deactivate", id).code).toBe(0);
    expect((await login()).json.code).toBe(404);
    expect(cli(url, "users", "activate", id).code).toBe(0);
    expect(cli(url, "users", "set-password", id, "--password", "n3w!").code).toBe(0);
    expect((await cosync(url, "login", { handle: "wile@acme.com", password: md5("n3w!") }, { "app-token": appToken })).status).toBe(200);

    const audit = cli(url, "users", "audit", id).stdout;
    expect(audit).toMatch(/sign_in\.success/);
    expect(audit).toMatch(/sign_in\.failure\tdeactivated/);

    expect(cli(url, "apps", "suspend", "acme").stdout).toContain("acme: suspended");
    expect((await login()).json.code).toBe(402);
  });

  it("totp enroll prints a QR code and the secret; keys rotate names the new key", async () => {
    const user = cli(url, "--json", "users", "create", "--username", "coyote", "--password", "catch-the-b1rd$").json();
    const out = cli(url, "totp", "enroll", user.account.id);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("▀"); // the terminal QR code
    expect(out.stdout).toMatch(/secret: [A-Z2-7]{16,}/);
    expect((await post(`${url}/api/session.setCookie`, { user: "coyote", password: "catch-the-b1rd$" })).json.error.code).toBe(10034);
    expect(cli(url, "keys", "rotate").stdout).toMatch(/^new signing key [\w-]+/);
  });

  it("clear errors: a wrong token exits 1, bad usage exits 2", () => {
    const wrong = spawnSync(process.execPath, ["--import", "tsx", "src/cli/signin.ts", "apps", "list"], {
      env: { ...process.env, SIGNIN_URL: url, ADMIN_TOKEN: "x".repeat(40) },
      encoding: "utf8",
    });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain("signin: admin token required (Unauthenticated)");
    const bad = cli(url, "apps", "frobnicate");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown command "apps frobnicate"');
    expect(cli(url, "users", "revoke", "ffffffffffffffffffffffff").stderr).toMatch(/not found \(NotFound\)/);
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
