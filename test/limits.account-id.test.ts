// Why the per-account limits stay keyed by the login as typed, not by the account id: a budget
// shared by a username and an email is observable. An attacker who knows a (public) username
// spends its budget from their own IP, then tries candidate emails: one that answers 10429 is
// that account's email (and exists), any other answers 10002 - an enumeration and linkage oracle
// at no cost to the attacker. Keyed by login, the answers for every email stay the same.
import { afterAll, describe, expect, it } from "vitest";
import { COYOTE, post, startTestService, type TestService } from "./support/service.js";

const wrong = (svc: TestService, user: string, ip: string) =>
  post(`${svc.url}/api/session.setCookie`, { user, password: "wrong" }, { "x-forwarded-for": ip });

describe("per-account limits and the account's other logins", () => {
  const running: TestService[] = [];
  afterAll(async () => {
    await Promise.all(running.map((s) => s.close()));
  });
  const start = async (env: Record<string, string>) => {
    const svc = await startTestService({ TRUSTED_PROXIES: "127.0.0.1/32", ...env });
    running.push(svc);
    return svc;
  };

  it("failures that block the username from one IP (account + IP) do not change the answer for the account's email", async () => {
    const svc = await start({});
    for (let i = 0; i < 5; i++) expect((await wrong(svc, COYOTE.username, "203.0.113.7")).json.error.code).toBe(10002);
    expect((await wrong(svc, COYOTE.username, "203.0.113.7")).json.error.code).toBe(10429);
    const own = await wrong(svc, COYOTE.email, "203.0.113.7");
    const other = await wrong(svc, "nobody@acme.com", "203.0.113.7");
    expect(own.text).toBe(other.text);
    expect(own.json.error.code).toBe(10002);
  });

  it("past the account's delay threshold (failures from many IPs), the email still answers like any other login", async () => {
    const svc = await start({ LIMIT_ACCOUNT_DELAY_AFTER: "2" });
    // Each from its own IP: only the account's own failure count (2, then a delay) is reached.
    for (let i = 1; i <= 3; i++) expect((await wrong(svc, COYOTE.username, `203.0.113.${i}`)).json.error.code).toBe(10002);
    const own = await wrong(svc, COYOTE.email, "203.0.113.9");
    const other = await wrong(svc, "nobody@acme.com", "203.0.113.9");
    expect(own.text).toBe(other.text);
    expect(own.json.error.code).toBe(10002);
  });
});
