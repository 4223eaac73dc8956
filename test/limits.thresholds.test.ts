// Each limit trips at exactly its threshold and releases after its window (short windows,
// polled with a bound), answered in each surface's own envelope; the client IP is the socket
// peer unless a trusted proxy forwards it.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterEach, describe, expect, it } from "vitest";
import { ErrorDetailSchema } from "../gen/signin/session/v1/error_pb.js";
import { SessionService } from "../gen/signin/session/v1/session_pb.js";
import { APP_TOKENS, COSYNC_APPS, COSYNC_USERS, cosync, md5, RR, SmsReceiver, WILE } from "./support/cosync.js";
import { COYOTE, post, ROADRUNNER, startTestService, type TestService } from "./support/service.js";

const running: TestService[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});
async function start(env: Record<string, string>, users?: unknown[], apps?: unknown[]) {
  const svc = await startTestService(env, users, apps);
  running.push(svc);
  return svc;
}

const signIn = (svc: TestService, user: string, password: string, headers: Record<string, string> = {}) =>
  post(`${svc.url}/api/session.setCookie`, { user, password }, headers);

/** Polls (bounded) until `attempt` stops being refused by a limit; returns how many tries it took. */
async function untilAllowed(attempt: () => Promise<{ json: any }>, maxMs = 10_000): Promise<{ json: any }> {
  const end = Date.now() + maxMs;
  for (;;) {
    const res = await attempt();
    if (res.json.error?.code !== 10429 || Date.now() > end) return res;
    await new Promise((r) => setTimeout(r, 100)); // a real window is passing (rate-limiter-flexible has no clock to inject)
  }
}

describe("per account and IP: consecutive failures block, escalating", () => {
  it("5 failures pass, the 6th attempt (even with the right password) is refused with retryAfter; blocks double; success resets", async () => {
    const svc = await start({ LIMIT_ACCOUNT_IP_BLOCK: "1/8" });
    for (let i = 0; i < 5; i++) expect((await signIn(svc, "coyote", "wrong")).json.error.code).toBe(10002);
    const blocked = await signIn(svc, "coyote", COYOTE.password);
    expect(blocked.json).toStrictEqual({ ok: false, error: { code: 10429, message: "Too many attempts; please try again later", retryAfter: 1 } });

    expect((await untilAllowed(() => signIn(svc, "coyote", "wrong"))).json.error.code).toBe(10002);
    for (let i = 0; i < 4; i++) await signIn(svc, "coyote", "wrong");
    // Second block: 2 s.
    expect((await signIn(svc, "coyote", COYOTE.password)).json.error).toMatchObject({ code: 10429, retryAfter: 2 });
    expect((await untilAllowed(() => signIn(svc, "coyote", COYOTE.password))).json.ok).toBe(true);
    // Success reset the consecutive count: 4 more failures do not block.
    for (let i = 0; i < 4; i++) await signIn(svc, "coyote", "wrong");
    expect((await signIn(svc, "coyote", COYOTE.password)).json.ok).toBe(true);
  });

  it("an unknown account is blocked exactly like a real one (no enumeration)", async () => {
    const svc = await start({});
    for (let i = 0; i < 5; i++) await signIn(svc, "nobody", "wrong");
    for (let i = 0; i < 5; i++) await signIn(svc, "coyote", "wrong");
    const unknown = await signIn(svc, "nobody", "wrong");
    const known = await signIn(svc, "coyote", "wrong");
    expect(unknown.text).toBe(known.text);
    expect(unknown.json.error.code).toBe(10429);
  });
});

describe("per client IP", () => {
  it("sign-in requests: N allowed, N+1 refused; spoofed X-Forwarded-For from an untrusted peer changes nothing", async () => {
    const svc = await start({ LIMIT_IP_REQUESTS: "3/4" });
    for (let i = 0; i < 3; i++) {
      expect((await signIn(svc, "coyote", COYOTE.password, { "x-forwarded-for": `10.0.0.${i}` })).json.ok).toBe(true);
    }
    const res = await signIn(svc, "coyote", COYOTE.password, { "x-forwarded-for": "10.9.9.9" });
    expect(res.json.error.code).toBe(10429);
    expect(res.json.error.retryAfter).toBeLessThanOrEqual(4);
    // The window passes: allowed again.
    expect((await untilAllowed(() => signIn(svc, "coyote", COYOTE.password))).json.ok).toBe(true);
  });

  it("behind a trusted proxy, the right-most untrusted X-Forwarded-For hop is the client", async () => {
    const svc = await start({ LIMIT_IP_REQUESTS: "2/60", TRUSTED_PROXIES: "127.0.0.1/32, 10.0.0.0/8" });
    const from = (xff: string) => signIn(svc, "coyote", COYOTE.password, { "x-forwarded-for": xff });
    expect((await from("203.0.113.7")).json.ok).toBe(true);
    // A client-supplied left part does not matter: 203.0.113.7 is still the right-most untrusted hop.
    expect((await from("6.6.6.6, 203.0.113.7, 10.1.2.3")).json.ok).toBe(true);
    expect((await from("7.7.7.7, 203.0.113.7")).json.error.code).toBe(10429);
    expect((await from("198.51.100.1")).json.ok).toBe(true);
    // IPv6 clients are grouped by /64.
    expect((await from("2001:db8:1:2::1")).json.ok).toBe(true);
    expect((await from("2001:db8:1:2:ffff::9")).json.ok).toBe(true);
    expect((await from("2001:db8:1:2:abcd::1")).json.error.code).toBe(10429);
  });

  it("failures across accounts (stuffing): N failures, then refused", async () => {
    const svc = await start({ LIMIT_IP_FAILURES: "3/4" });
    for (const user of ["a", "b", "c"]) expect((await signIn(svc, user, "x")).json.error.code).toBe(10002);
    expect((await signIn(svc, "coyote", COYOTE.password)).json.error.code).toBe(10429);
    expect((await untilAllowed(() => signIn(svc, "coyote", COYOTE.password))).json.ok).toBe(true);
  });
});

describe("per account across IPs: progressive delay, not a hard lock", () => {
  it("after N failures each attempt must wait (1 s, then 2 s...), from any IP; the owner gets in after the delay", async () => {
    const svc = await start({ LIMIT_ACCOUNT_DELAY_AFTER: "2", TRUSTED_PROXIES: "127.0.0.1/32" });
    const from = (ip: string, password: string) => signIn(svc, "coyote", password, { "x-forwarded-for": ip });
    expect((await from("198.51.100.1", "x")).json.error.code).toBe(10002);
    expect((await from("198.51.100.2", "x")).json.error.code).toBe(10002);
    expect((await from("198.51.100.3", "x")).json.error.code).toBe(10002); // third failure: 1 s delay starts
    const delayed = await from("203.0.113.50", COYOTE.password);
    expect(delayed.json.error).toMatchObject({ code: 10429, retryAfter: 1 });
    expect((await untilAllowed(() => from("203.0.113.50", COYOTE.password))).json.ok).toBe(true);
  });
});

// Each attempt is reserved as a failure before any hashing, so attempts in flight at the same
// time see each other: however many arrive at once, no more are checked than the limit.
describe("attempts at the same time", () => {
  const codes = (answers: Array<{ json: any }>) => answers.map((r) => r.json.error?.code ?? "ok").sort();
  const times = <T>(n: number, fn: (i: number) => Promise<T>) => Promise.all(Array.from({ length: n }, (_, i) => fn(i)));

  it("12 wrong passwords at once against a limit of 3 per account and IP: 3 checked, 9 refused", async () => {
    const svc = await start({ LIMIT_ACCOUNT_IP_FAILURES: "3" });
    expect(codes(await times(12, () => signIn(svc, "coyote", "wrong")))).toStrictEqual([...Array(3).fill(10002), ...Array(9).fill(10429)]);
    expect((await signIn(svc, "coyote", COYOTE.password)).json.error.code).toBe(10429); // the pair is blocked
  });

  it("past the delay threshold, one attempt per delay from any IP; refused attempts do not count", async () => {
    const svc = await start({ LIMIT_ACCOUNT_DELAY_AFTER: "2", LIMIT_ACCOUNT_FAILURES: "4/3600", TRUSTED_PROXIES: "127.0.0.1/32" });
    const from = (i: number) => signIn(svc, "coyote", "wrong", { "x-forwarded-for": `198.51.100.${i + 1}` });
    expect(codes(await times(10, from))).toStrictEqual([...Array(3).fill(10002), ...Array(7).fill(10429)]);
    // Had the 7 refusals counted, the account (4 per hour) would be over its limit; it has 3, so one more is checked.
    const next = await untilAllowed(() => from(50));
    expect(next.json.error.code).toBe(10002);
  });

  it("10 wrong TOTP codes at once (Cosync loginComplete) against a limit of 2: 2 checked, 8 refused", async () => {
    const svc = await start({ LIMIT_SECOND_FACTOR_FAILURES: "2/900" }, COSYNC_USERS, COSYNC_APPS);
    const acme = { "app-token": APP_TOKENS.acme };
    const loginToken = (await cosync(svc.url, "login", { handle: RR.handle, password: md5(RR.password) }, acme)).json["login-token"];
    const complete = (i: number) => cosync(svc.url, "loginComplete", { loginToken, code: String(i).padStart(6, "0") }, acme);
    const answers = (await times(10, complete)).map((r) => r.json.code).sort();
    expect(answers).toStrictEqual([...Array(8).fill(429), ...Array(2).fill(600)]);
  });
});

describe("second factor and app limits", () => {
  it("wrong TOTP codes per account: N, then refused even with the right code", async () => {
    const svc = await start({ LIMIT_SECOND_FACTOR_FAILURES: "2/4" });
    const withCode = (token: string) =>
      post(`${svc.url}/api/session.setCookie`, { user: "roadrunner", password: ROADRUNNER.password, secondaryAuthFactor: { type: "TOTP", token } });
    expect((await withCode("000000")).json.error.code).toBe(10035);
    expect((await withCode("000001")).json.error.code).toBe(10035);
    expect((await withCode("000002")).json.error.code).toBe(10429);
    expect((await untilAllowed(() => withCode("000003"))).json.error.code).toBe(10035);
  });

  it("per app: N sign-ins in total, then refused", async () => {
    const svc = await start({ LIMIT_APP_REQUESTS: "2/4" });
    expect((await signIn(svc, "coyote", COYOTE.password)).json.ok).toBe(true);
    expect((await signIn(svc, "roadrunner", "x")).json.error.code).toBe(10002);
    expect((await signIn(svc, "coyote", COYOTE.password)).json.error.code).toBe(10429);
    expect((await untilAllowed(() => signIn(svc, "coyote", COYOTE.password))).json.ok).toBe(true);
  });
});

describe("answers in each surface's envelope", () => {
  it("Cosync: HTTP 429 {code, message} with Retry-After; SMS sends per account are limited and failed sends not counted", async () => {
    const sms = await new SmsReceiver().start();
    try {
      const svc = await start({ LIMIT_ACCOUNT_IP_FAILURES: "2", LIMIT_SMS_ACCOUNT: "2/3600", SMS_WEBHOOK_URL: sms.url, SMS_WEBHOOK_SECRET: sms.secret }, COSYNC_USERS, COSYNC_APPS);
      const acme = { "app-token": APP_TOKENS.acme };
      for (let i = 0; i < 2; i++) await cosync(svc.url, "login", { handle: WILE.handle, password: md5("x") }, acme);
      const res = await cosync(svc.url, "login", { handle: WILE.handle, password: md5(WILE.password) }, acme);
      expect(res.status).toBe(429);
      expect(res.json).toStrictEqual({ code: 429, message: "Too many attempts; please try again later" });
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);

      const phone = { "app-token": APP_TOKENS.phone };
      const login = () => cosync(svc.url, "login", { handle: "caller@phone.co", password: md5("ring-ring") }, phone);
      sms.failNext = 1;
      expect((await login()).status).toBe(500); // not counted
      expect((await login()).status).toBe(200);
      expect((await login()).status).toBe(200);
      const third = await login();
      expect(third.status).toBe(429);
      expect(sms.received).toHaveLength(2);
    } finally {
      await sms.close();
    }
  });

  it("Connect: resource_exhausted with retryAfterSeconds in the detail and a retry-after header", async () => {
    const svc = await start({ LIMIT_IP_REQUESTS: "1/60" });
    const client = createClient(SessionService, createConnectTransport({ baseUrl: svc.url, httpVersion: "1.1" }));
    await client.issueToken({ user: "coyote", password: COYOTE.password });
    const err = await client.issueToken({ user: "coyote", password: COYOTE.password }).then(() => null, (e) => ConnectError.from(e));
    expect(err?.code).toBe(Code.ResourceExhausted);
    expect(err?.findDetails(ErrorDetailSchema)[0]).toMatchObject({ reason: "TOO_MANY_ATTEMPTS" });
    expect(err!.findDetails(ErrorDetailSchema)[0]!.retryAfterSeconds).toBeGreaterThan(50);
    expect(Number(err?.metadata.get("retry-after"))).toBeGreaterThan(50);
  });
});
