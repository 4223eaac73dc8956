// A rotated session (refresh) token presented again is taken as theft: refused, and its whole
// rotation chain ends (the current token and its refresh too, on every instance), audited once as
// session.token_reuse with both IPs (the reuser's, and lastIp: the one that last signed in or
// refreshed the chain). No grace: of concurrent refreshes of one token exactly one answers, and the
// chain has ended for it too (OAuth 2.0 BCP).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COYOTE, post, startTestInstances, startTestService, type TestService } from "./support/service.js";

const credentials = { user: "coyote", password: COYOTE.password };
const cookieValue = (setCookie: string | null) => /^[^=]+=([^;]*)/.exec(setCookie ?? "")?.[1] ?? "";

describe("refresh token reuse", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(() => svc?.close());

  const issue = async () => (await post(`${svc.url}/api/session.issueToken`, credentials)).json.token as string;
  const refresh = async (token: string) => (await post(`${svc.url}/api/session.refreshToken`, { token })).json;
  const bearer = async (token: string) => (await post(`${svc.url}/api/user.info`, {}, { authorization: `Bearer ${token}` })).json;
  const reusedEvents = () => svc.logs.filter((l) => l.event === "session.token_reuse");

  it("refresh A -> B, then A again: refused, and B and B's refresh are refused too", async () => {
    const a = await issue();
    const b = (await refresh(a)).token as string;
    expect((await bearer(b)).ok).toBe(true);
    const before = reusedEvents().length;
    expect((await refresh(a)).error.code).toBe(10029);
    expect((await bearer(b)).error.code).toBe(10000);
    expect((await refresh(b)).error.code).toBe(10029);
    const events = reusedEvents().slice(before);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ audit: true, event: "session.token_reuse", accountId: COYOTE.id });
  });

  it("reuse after several rotations, with the tokens expired (refreshable while the session lives), ends the chain's latest", async () => {
    const a = await issue();
    let current = a;
    for (let i = 0; i < 3; i++) {
      svc.clock.advance(16 * 60 * 1000);
      current = (await refresh(current)).token;
    }
    expect((await bearer(current)).ok).toBe(true);
    svc.clock.advance(16 * 60 * 1000);
    expect((await refresh(a)).error.code).toBe(10029);
    expect((await refresh(current)).error.code).toBe(10029);
  });

  it("ends only that chain: the account's other sessions go on", async () => {
    const [mine, other] = [await issue(), await issue()];
    const next = (await refresh(mine)).token;
    expect((await refresh(mine)).error.code).toBe(10029);
    expect((await bearer(next)).error.code).toBe(10000);
    expect((await bearer(other)).ok).toBe(true);
    expect((await refresh(other)).ok).toBe(true);
  });

  it("two concurrent refreshes of one token: neither keeps a working session", async () => {
    const a = await issue();
    const answers = await Promise.all([refresh(a), refresh(a)]);
    expect(answers.filter((r) => r.ok).length).toBeLessThanOrEqual(1);
    for (const r of answers.filter((r) => r.ok)) {
      expect((await bearer(r.token)).error.code).toBe(10000);
      expect((await refresh(r.token)).error.code).toBe(10029);
    }
    expect(answers.some((r) => !r.ok && r.error.code === 10029)).toBe(true);
  });

  it("a refused refresh (garbage, signed out) is not reuse", async () => {
    const a = await issue();
    const before = reusedEvents().length;
    expect((await post(`${svc.url}/api/session.destroyToken`, { token: a })).json.ok).toBe(true);
    expect((await refresh(a)).error.code).toBe(10029);
    expect((await refresh("a.b.c")).error.code).toBe(10029);
    expect(reusedEvents().length).toBe(before);
  });

  it("signing out with a rotated token ends the chain (its current token too)", async () => {
    const a = await issue();
    const b = (await refresh(a)).token;
    expect((await post(`${svc.url}/api/session.destroyToken`, { token: a })).json.ok).toBe(true);
    expect((await bearer(b)).error.code).toBe(10000);
  });

  it("cookie flavour: replaying the rotated cookie ends the session of the new cookie", async () => {
    const first = await post(`${svc.url}/api/session.setCookie`, credentials);
    const old = cookieValue(first.headers.get("set-cookie"));
    const rotated = await post(`${svc.url}/api/session.refreshCookie`, {}, { cookie: `session=${old}` });
    const fresh = cookieValue(rotated.headers.get("set-cookie"));
    expect((await post(`${svc.url}/api/user.info`, {}, { cookie: `session=${fresh}` })).json.ok).toBe(true);
    expect((await post(`${svc.url}/api/session.refreshCookie`, {}, { cookie: `session=${old}` })).json.error.code).toBe(10000);
    expect((await post(`${svc.url}/api/user.info`, {}, { cookie: `session=${fresh}` })).json.error.code).toBe(10000);
  });
});

describe("refresh token reuse on two instances (theft detection)", () => {
  let a: TestService;
  let b: TestService;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const started = await startTestInstances(2, { TRUSTED_PROXIES: "127.0.0.1/32" });
    [a, b] = started.instances as [TestService, TestService];
    close = started.close;
  });
  afterAll(() => close?.());

  const from = (ip: string) => ({ "x-forwarded-for": ip });
  const issueFrom = async (ip: string) => (await post(`${a.url}/api/session.issueToken`, credentials, from(ip))).json.token as string;
  const refreshOn = async (svc: TestService, token: string, ip: string) => (await post(`${svc.url}/api/session.refreshToken`, { token }, from(ip))).json;
  const bearerOn = async (svc: TestService, token: string) => (await post(`${svc.url}/api/user.info`, {}, { authorization: `Bearer ${token}` })).json;
  const reuseEvents = () => [...a.logs, ...b.logs].filter((l) => l.event === "session.token_reuse");

  it("exactly one of 50 concurrent refreshes of one token (25 per instance) succeeds; the chain ends; one session.token_reuse with both IPs", async () => {
    const token = await issueFrom("203.0.113.5");
    const before = reuseEvents().length;
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => refreshOn(i % 2 ? a : b, token, `198.51.100.${i + 1}`)));
    const won = answers.filter((r) => r.ok);
    expect(won).toHaveLength(1);
    expect(answers.filter((r) => !r.ok).every((r) => r.error.code === 10029)).toBe(true);
    // The winner's token is refused too, on both instances: the chain ended with the reuse.
    expect((await bearerOn(a, won[0].token)).error.code).toBe(10000);
    expect((await bearerOn(b, won[0].token)).error.code).toBe(10000);
    const events = reuseEvents().slice(before);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ audit: true, event: "session.token_reuse", accountId: COYOTE.id });
    expect(events[0]!.ip).toMatch(/^198\.51\.100\.\d+$/);
    // The chain's last IP: the sign-in's, or the winner's refresh when it was recorded before the reuse.
    expect(String(events[0]!.lastIp)).toMatch(/^(203\.0\.113\.5|198\.51\.100\.\d+)$/);
  });

  it("a thief replays a rotated token from elsewhere: the holder's next call answers 10000 on every instance; the event names both IPs", async () => {
    const first = await issueFrom("203.0.113.5");
    const current = (await refreshOn(a, first, "203.0.113.6")).token as string; // the holder refreshes from a new address
    expect((await bearerOn(b, current)).ok).toBe(true);
    const before = reuseEvents().length;
    expect((await refreshOn(b, first, "192.0.2.66")).error.code).toBe(10029); // the stolen, rotated token
    expect((await bearerOn(a, current)).error.code).toBe(10000);
    expect((await bearerOn(b, current)).error.code).toBe(10000);
    expect((await refreshOn(a, current, "203.0.113.6")).error.code).toBe(10029);
    const events = reuseEvents().slice(before);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ event: "session.token_reuse", ip: "192.0.2.66", lastIp: "203.0.113.6", accountId: COYOTE.id });
  });
});
