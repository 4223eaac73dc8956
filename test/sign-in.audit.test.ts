// Every sign-in decision is audited once, and a success only once the credentials were issued:
// a refusal after the second factor, or after the password (missing metadata, a suspended app),
// is never recorded as a success, on any surface.
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../gen/signin/admin/v1/admin_pb.js";
import { APP_TOKENS, COSYNC_APPS, COSYNC_USERS, cosync, md5, RR } from "./support/cosync.js";
import { startTestService, TOTP_SECRET, type TestService } from "./support/service.js";

const ADMIN_TOKEN = "admin-token-for-the-audit-tests-0123456789";

describe("audit of Cosync-style sign-ins", () => {
  let svc: TestService;
  let admin: ReturnType<typeof createClient<typeof AdminService>>;
  beforeAll(async () => {
    svc = await startTestService({ ADMIN_TOKEN }, COSYNC_USERS, COSYNC_APPS);
    svc.clock.advance(-(svc.clock.now() % 30_000) + 5_000);
    admin = createClient(
      AdminService,
      createConnectTransport({ baseUrl: svc.url, httpVersion: "1.1", interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${ADMIN_TOKEN}`), next(req))] }),
    );
  });
  afterAll(() => svc?.close());

  const acme = { "app-token": APP_TOKENS.acme };
  const accountId = async (handle: string) => (await admin.listAccounts({ appId: "acme" })).accounts.find((a) => a.username === handle)!.id;
  const eventsOf = (filter: (e: Record<string, unknown>) => boolean) =>
    svc.logs.filter((l) => l.audit && filter(l)).map((e) => [e.event, e.reason ?? null]);

  it("an account deactivated between the password and the code: 404, audited as a failure, never as a success", async () => {
    const id = await accountId(RR.handle);
    const first = await cosync(svc.url, "login", { handle: RR.handle, password: md5(RR.password) }, acme);
    expect(Object.keys(first.json)).toStrictEqual(["login-token"]);
    await admin.updateAccount({ id, deactivated: true });
    const code = await generate({ secret: TOTP_SECRET, epoch: Math.floor(svc.clock.now() / 1000) });
    const done = await cosync(svc.url, "loginComplete", { loginToken: first.json["login-token"], code }, acme);
    expect(done.json.code).toBe(404);
    expect(eventsOf((e) => e.accountId === id)).toStrictEqual([
      ["second_factor.required", "TOTP"],
      ["sign_in.failure", "deactivated"],
    ]);
  });

  it("required metadata missing at login: 604, audited as a failure after the password", async () => {
    const id = await accountId("nometa@acme.com");
    const res = await cosync(svc.url, "login", { handle: "nometa@acme.com", password: md5("no-metadata") }, acme);
    expect(res.json.code).toBe(604);
    expect(eventsOf((e) => e.accountId === id)).toStrictEqual([["sign_in.failure", "invalid_metadata"]]);
  });

  it("a suspended or deleted app is audited as on the Yeep-style surface", async () => {
    const paused = await cosync(svc.url, "login", { handle: "p@paused.io", password: md5("pw-paused") }, { "app-token": APP_TOKENS.suspended });
    expect(paused.json.code).toBe(402);
    const gone = await cosync(svc.url, "login", { handle: "g@gone.io", password: md5("pw-gone-away") }, { "app-token": APP_TOKENS.deleted });
    expect(gone.json.code).toBe(401);
    expect(eventsOf((e) => e.appId === "paused" || e.appId === "gone")).toStrictEqual([
      ["sign_in.failure", "suspended"],
      ["sign_in.failure", "deleted"],
    ]);
  });
});
