// A rotated session (refresh) token presented again is taken as theft: refused, and its whole
// rotation chain ends (the current token and its refresh too), audited as session.token_reuse.
// No grace: of two concurrent refreshes of one token neither keeps the session (OAuth 2.0 BCP).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COYOTE, post, startTestService, type TestService } from "./support/service.js";

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
