// Every admin call is audited once: who (the admin token's fingerprint, the client's IP and the
// request id), what (the RPC), on what (app, account, login) and the outcome (ok, or the reason).
// Calls refused for their token are audited too. No password, hash, app token, TOTP secret or
// admin token appears anywhere in the logs.
import { hash as argon2 } from "@node-rs/argon2";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../gen/signin/admin/v1/admin_pb.js";
import { startTestService, type TestService } from "./support/service.js";

const ADMIN_TOKEN = "admin-token-for-the-admin-audit-tests-0123456789";
const WRONG_TOKEN = "not-the-admin-token-but-close-0123456789";
const NO_ACCOUNT = "ffffffffffffffffffffffff";
const PASSWORDS = ["created-Passw0rd-1", "set-Passw0rd-2", "imported-Passw0rd-3", "unknown-Passw0rd-4", "denied-Passw0rd-5"];

const clientWith = (url: string, token: string | null) =>
  createClient(
    AdminService,
    createConnectTransport({
      baseUrl: url,
      httpVersion: "1.1",
      interceptors: [(next) => (req) => (token && req.header.set("authorization", `Bearer ${token}`), req.header.set("x-request-id", `req-${req.method.name}`), next(req))],
    }),
  );

describe("audit of admin calls", () => {
  let svc: TestService;
  beforeAll(async () => (svc = await startTestService({ ADMIN_TOKEN })));
  afterAll(() => svc?.close());

  it("one entry per call, refused or not, with actor, action, target and outcome, and no secret in any log line", async () => {
    const admin = clientWith(svc.url, ADMIN_TOKEN);
    const secrets = [ADMIN_TOKEN, WRONG_TOKEN, ...PASSWORDS];
    const failed = (call: Promise<unknown>) => call.then(() => "succeeded", () => "failed");

    const created = await admin.createApp({ app: { id: "audited", passwordPrehash: "md5" } });
    await admin.updateApp({ id: "audited", status: "suspended", jwtExpirationHours: 12, rememberDeviceDays: 7 });
    await admin.listApps({});
    const rotated = await admin.rotateAppToken({ id: "audited" });
    const { kid } = await admin.rotateSigningKey({});
    await admin.rotateSigningKey({ appId: "audited" });
    const account = (await admin.createAccount({ appId: "audited", username: "wile@acme.com", email: "wile@acme.com", password: PASSWORDS[0] })).account!;
    await admin.updateAccount({ id: account.id, deactivated: true, fullName: "Wile E." });
    await admin.setPassword({ id: account.id, password: PASSWORDS[1] });
    const totp = await admin.enrollTotp({ id: account.id });
    await admin.resetSecondFactors({ id: account.id });
    await admin.revokeSessions({ id: account.id });
    await admin.listAccounts({ appId: "audited" });
    await admin.listAuditEvents({ id: account.id });
    const importedHash = await argon2("an-imported-password", { memoryCost: 1024, timeCost: 1, parallelism: 1 });
    await admin.importAccounts({
      records: [
        { line: 1n, appId: "audited", username: "imported-1", passwordHash: importedHash },
        { line: 2n, appId: "audited", username: "imported-2", password: PASSWORDS[2] },
        { line: 3n, appId: "audited", username: "imported-3", passwordHash: "plain-text" },
      ],
    });
    expect(await failed(admin.setPassword({ id: NO_ACCOUNT, password: PASSWORDS[3] }))).toBe("failed");
    expect(await failed(admin.createApp({ app: { id: "bad", metadataFields: [{ path: "__proto__.x" }] } }))).toBe("failed");
    expect(await failed(clientWith(svc.url, WRONG_TOKEN).setPassword({ id: account.id, password: PASSWORDS[4] }))).toBe("failed");
    expect(await failed(clientWith(svc.url, null).listApps({}))).toBe("failed");
    secrets.push(created.appToken, rotated.appToken, totp.secret, totp.uri, importedHash);

    const entries = svc.logs.filter((l) => l.audit && String(l.event).startsWith("admin."));
    expect(entries.map(({ event, action, outcome, reason, target, detail }) => ({ event, action, outcome, reason, target, detail }))).toStrictEqual(
      [
        ["CreateApp", { app: "audited" }],
        ["UpdateApp", { app: "audited" }, { fields: ["status=suspended", "jwtExpirationHours=12", "rememberDeviceDays=7"] }],
        ["ListApps", {}],
        ["RotateAppToken", { app: "audited" }],
        ["RotateSigningKey", { key: "service" }, { kid }],
        ["RotateSigningKey", { app: "audited", key: "app" }, { kid: expect.any(String) }],
        ["CreateAccount", { app: "audited", login: "wile@acme.com", account: account.id }],
        ["UpdateAccount", { account: account.id }, { fields: ["deactivated=true", "fullName"] }],
        ["SetPassword", { account: account.id }],
        ["EnrollTotp", { account: account.id }],
        ["ResetSecondFactors", { account: account.id }],
        ["RevokeSessions", { account: account.id }],
        ["ListAccounts", { app: "audited" }],
        ["ListAuditEvents", { account: account.id }],
        ["ImportAccounts", { app: "audited" }, { records: 3, created: 2, failed: 1 }],
        ["SetPassword", { account: NO_ACCOUNT }, undefined, "account_not_found"],
        ["CreateApp", { app: "bad" }, undefined, "invalid_request"],
        ["SetPassword", {}, undefined, "wrong_admin_token", "admin.denied"],
        ["ListApps", {}, undefined, "no_admin_token", "admin.denied"],
      ].map(([action, target, detail, reason, event]) => ({
        event: event ?? "admin.call",
        action,
        outcome: reason ? "failed" : "ok",
        reason,
        target,
        detail,
      })),
    );
    // Who: the admin credential by a fingerprint (the same for every call), from where, which request.
    const actors = new Set(entries.map((e) => e.actor));
    expect([...actors]).toStrictEqual([expect.stringMatching(/^admin-token:[0-9a-f]{12}$/), "unknown"]);
    for (const e of entries) expect(e).toMatchObject({ surface: "rpc", ip: "127.0.0.1", requestId: `req-${e.action}` });

    const everything = JSON.stringify(svc.logs);
    for (const secret of secrets) expect(everything, `a log line holds ${secret}`).not.toContain(secret);
    expect(everything).not.toMatch(/\$argon2|\$2[aby]\$/); // no stored or imported hash
  });
});
