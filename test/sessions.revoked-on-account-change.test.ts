// A new password (admin API or import), a deactivation or a removed second factor ends every
// session, refresh and access token the account holds: a stolen credential dies with the change.
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../gen/signin/admin/v1/admin_pb.js";
import { APP_TOKENS, COSYNC_APPS, cosync, md5, WILE } from "./support/cosync.js";
import { COYOTE, post, startTestService, type TestService } from "./support/service.js";

const ADMIN_TOKEN = "admin-token-for-tests-0123456789abcdef";

describe("an account change ends the account's sessions and tokens", () => {
  let svc: TestService;
  let admin: ReturnType<typeof adminClient>;
  const adminClient = (url: string) =>
    createClient(AdminService, createConnectTransport({ baseUrl: url, httpVersion: "1.1", interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${ADMIN_TOKEN}`), next(req))] }));

  beforeAll(async () => {
    svc = await startTestService({ ADMIN_TOKEN }, [COYOTE, WILE], COSYNC_APPS);
    admin = adminClient(svc.url);
  });
  afterAll(() => svc?.close());

  let password = COYOTE.password;
  const bearer = async () => {
    const res = await post(`${svc.url}/api/session.issueToken`, { user: "coyote", password });
    expect(res.json.ok).toBe(true);
    return res.json.token as string;
  };
  const info = (token: string) => post(`${svc.url}/api/user.info`, {}, { authorization: `Bearer ${token}` }).then((r) => r.json);
  const refresh = (token: string) => post(`${svc.url}/api/session.refreshToken`, { token }).then((r) => r.json);
  const wileToken = async () => (await cosync(svc.url, "login", { handle: WILE.handle, password: md5(WILE.password) }, { "app-token": APP_TOKENS.acme })).json["access-token"] as string;
  const getUser = (token: string) => cosync(svc.url, "getUser", null, { "access-token": token });

  it("set-password: an old bearer token is refused (10000) and cannot be refreshed; a new sign-in works", async () => {
    const [token, spare] = [await bearer(), await bearer()];
    expect((await info(token)).ok).toBe(true);
    svc.clock.advance(1000);
    password = "a new password 1";
    await admin.setPassword({ id: COYOTE.id, password });
    expect((await info(token)).error.code).toBe(10000);
    expect((await refresh(spare)).error.code).toBe(10029);
    svc.clock.advance(1);
    expect((await info(await bearer())).ok).toBe(true);
  });

  it("set-password: a Cosync access-token is refused (405)", async () => {
    const token = await wileToken();
    expect((await getUser(token)).status).toBe(200);
    svc.clock.advance(1000);
    const { accounts } = await admin.listAccounts({ appId: "acme" });
    const wile = accounts.find((a) => a.email === WILE.handle)!;
    await admin.setPassword({ id: wile.id, password: WILE.password });
    expect((await getUser(token)).json.code).toBe(405);
    // The same second as the change, a new sign-in's token is not caught by it (millisecond issue time).
    svc.clock.advance(1);
    expect((await getUser(await wileToken())).status).toBe(200);
  });

  it("an import that changes the password ends the sessions", async () => {
    const token = await bearer();
    svc.clock.advance(1000);
    password = "an imported password 2";
    const [result] = (await admin.importAccounts({ records: [{ line: 1n, id: COYOTE.id, username: "coyote", email: COYOTE.email, password }] })).results;
    expect(result!.outcome).toBe("updated");
    expect((await info(token)).error.code).toBe(10000);
    expect((await refresh(token)).error.code).toBe(10029);
  });

  it("a second-factor reset and a deactivation end the sessions", async () => {
    svc.clock.advance(1000);
    const token = await bearer();
    await admin.enrollTotp({ id: COYOTE.id });
    expect((await info(token)).ok).toBe(true); // a factor added is not a factor removed
    svc.clock.advance(1000);
    await admin.resetSecondFactors({ id: COYOTE.id });
    expect((await info(token)).error.code).toBe(10000);
    svc.clock.advance(1000);
    const next = await bearer();
    svc.clock.advance(1000);
    await admin.updateAccount({ id: COYOTE.id, deactivated: true });
    expect((await refresh(next)).error.code).toBe(10029);
  });

  it("totp.eject (the user's own removal) ends every other session and keeps the caller's", async () => {
    svc.clock.advance(1000);
    await admin.updateAccount({ id: COYOTE.id, deactivated: false });
    const { secret } = await admin.enrollTotp({ id: COYOTE.id });
    const withCode = async () => {
      svc.clock.advance(30_000); // a code is accepted once per step
      const token = await generate({ secret, epoch: Math.floor(svc.clock.now() / 1000) });
      const res = await post(`${svc.url}/api/session.issueToken`, { user: "coyote", password, secondaryAuthFactor: { type: "TOTP", token } });
      expect(res.json.ok).toBe(true);
      return res.json.token as string;
    };
    const [mine, other] = [await withCode(), await withCode()];
    const ejected = await post(`${svc.url}/api/totp.eject`, { secondaryAuthFactor: { type: "PASSWORD", token: password } }, { authorization: `Bearer ${mine}` });
    expect(ejected.json).toStrictEqual({ ok: true });
    expect((await info(other)).error.code).toBe(10000);
    expect((await info(mine)).ok).toBe(true);
    const rotated = await refresh(mine);
    expect(rotated.ok).toBe(true);
    expect((await info(rotated.token)).ok).toBe(true); // spared across its refreshes
  });
});
