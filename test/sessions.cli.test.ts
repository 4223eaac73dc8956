// `signin users sessions <id>` (issue 16): an account's live sessions from the admin CLI, and
// `--revoke <session id>` ending one; clear errors for an unknown account or session.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, cli } from "./support/cli.js";
import { spawnService } from "./support/spawn.js";
import { bootstrapFile, post, testEnv } from "./support/service.js";

const WINDOWS_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
const MAC_CHROME = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

describe("signin users sessions", () => {
  let url: string;
  let stop: () => Promise<void>;
  beforeAll(async () => {
    const env = { ...process.env, ...testEnv({ SIGNIN_BOOTSTRAP: bootstrapFile({ users: [] }), ADMIN_TOKEN }) };
    const svc = await spawnService(env);
    url = svc.url;
    stop = async () => void (await svc.stop());
  });
  afterAll(() => stop?.());

  it("lists an account's sessions and --revoke ends one at once; unknown ids exit 1, a missing account id 2", async () => {
    const id = (await cli(url, "--json", "users", "create", "--username", "pat", "--password", "long-enough")).json().account.id as string;
    const credentials = { user: "pat", password: "long-enough" };
    const token = (await post(`${url}/api/session.issueToken`, credentials, { "user-agent": WINDOWS_FIREFOX })).json.token as string;
    expect((await post(`${url}/api/session.setCookie`, credentials, { "user-agent": MAC_CHROME })).json.ok).toBe(true);

    const listed = await cli(url, "users", "sessions", id);
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines.join("\n")).toMatch(/^\S+\tbearer\tFirefox 133\tWindows\t127\.0\.0\.1\tlast used \d{4}-\d\d-\d\dT[\d:.]+Z\tcreated \d{4}-/m);
    expect(lines.join("\n")).toMatch(/^\S+\tcookie\tChrome 131\tmacOS\t127\.0\.0\.1\t/m);

    const json = (await cli(url, "--json", "users", "sessions", id)).json();
    const bearer = json.sessions.find((s: { kind: string }) => s.kind === "bearer");
    expect(bearer).toMatchObject({ browser: "Firefox 133", os: "Windows", userAgent: WINDOWS_FIREFOX, ip: "127.0.0.1" });

    const revoked = await cli(url, "users", "sessions", id, "--revoke", bearer.id);
    expect(revoked).toMatchObject({ code: 0, stdout: `session ${bearer.id} ended\n` });
    expect((await post(`${url}/api/user.info`, {}, { authorization: `Bearer ${token}` })).json.error.code).toBe(10000);
    expect((await cli(url, "users", "sessions", id)).stdout.trim().split("\n")).toHaveLength(1);

    const again = await cli(url, "users", "sessions", id, "--revoke", bearer.id);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("(NotFound)");
    const unknown = await cli(url, "users", "sessions", "ffffffffffffffffffffffff");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('account "ffffffffffffffffffffffff" not found (NotFound)');
    expect((await cli(url, "users", "sessions")).code).toBe(2);
    expect((await cli(url, "users", "list", "--revoke", "x")).code).toBe(2);
  });
});
