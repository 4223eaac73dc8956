// Limits hold across instances sharing Redis; Redis going away refuses sign-in (fail closed)
// while health still answers, and sign-in recovers by itself when Redis is back; a full
// hashing queue sheds load with a retryable answer; every decision is audited, no secrets.
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "./support/global-setup.js";
import { COYOTE, post, startTestService, uniqueName, type TestService } from "./support/service.js";

describe("limits across instances", () => {
  const running: TestService[] = [];
  afterAll(() => Promise.all(running.map((s) => s.close())));

  it("two instances on one Redis allow N sign-ins per IP in total, not 2N", async () => {
    const env = { LIMIT_IP_REQUESTS: "4/60", REDIS_KEY_PREFIX: `${uniqueName("shared")}:` };
    const [a, b] = await Promise.all([startTestService(env), startTestService(env)]);
    running.push(a, b);
    const results = [];
    for (const svc of [a, b, a, b, a, b]) results.push((await post(`${svc.url}/api/session.setCookie`, { user: "coyote", password: COYOTE.password })).json);
    expect(results.map((r) => r.ok)).toStrictEqual([true, true, true, true, false, false]);
    expect(results[4].error.code).toBe(10429);
  });

  it("consecutive failures on one instance block the account on the other", async () => {
    const env = { REDIS_KEY_PREFIX: `${uniqueName("shared")}:` };
    const [a, b] = await Promise.all([startTestService(env), startTestService(env)]);
    running.push(a, b);
    for (const svc of [a, b, a, b, a]) await post(`${svc.url}/api/session.setCookie`, { user: "coyote", password: "wrong" });
    expect((await post(`${b.url}/api/session.setCookie`, { user: "coyote", password: COYOTE.password })).json.error.code).toBe(10429);
  });
});

describe("Redis outage", () => {
  let redis: ChildProcess | undefined;
  let svc: TestService | undefined;
  afterAll(async () => {
    await svc?.close();
    redis?.kill("SIGKILL");
  });

  const startRedis = async (port: number) => {
    const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    await waitFor(async () => await canConnect(port));
    return child;
  };

  it("sign-in is refused retryably while Redis is down, health answers, and it recovers without a restart", async () => {
    const port = await freePort();
    redis = await startRedis(port);
    svc = await startTestService({ REDIS_URL: `redis://127.0.0.1:${port}` });
    const signIn = () => post(`${svc!.url}/api/session.setCookie`, { user: "coyote", password: COYOTE.password });
    expect((await signIn()).json.ok).toBe(true);

    redis.kill("SIGKILL");
    await waitFor(async () => !(await canConnect(port)));
    const refused = await signIn();
    expect(refused.json).toStrictEqual({
      ok: false,
      error: { code: 10503, message: "The service is temporarily unavailable; please try again", retryAfter: 1 },
    });
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${svc.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ status: "not ready", checks: { database: true, redis: false } });

    redis = await startRedis(port);
    let back = await signIn();
    await waitFor(async () => (back = await signIn()).json.ok === true);
    expect(back.json).toStrictEqual({ ok: true, user: { id: COYOTE.id } });
    // Readiness reports are reused for a second: poll until the fresh one.
    await waitFor(async () => (await fetch(`${svc!.url}/readyz`)).status === 200);
  });
});

describe("bounded hashing", () => {
  it("with the queue full, sign-ins are shed at once with a retryable busy answer; the rest succeed", async () => {
    // (12 at once: more than the default attempts of one account allowed in flight, raised here.)
    const svc = await startTestService({ HASH_CONCURRENCY: "1", HASH_QUEUE_MAX: "1", LIMIT_IP_REQUESTS: "1000/60", LIMIT_ACCOUNT_IP_FAILURES: "20", LIMIT_ACCOUNT_DELAY_AFTER: "20" });
    try {
      const answers = await Promise.all(
        Array.from({ length: 12 }, () => post(`${svc.url}/api/session.setCookie`, { user: "coyote", password: COYOTE.password })),
      );
      const ok = answers.filter((a) => a.json.ok).length;
      const busy = answers.filter((a) => a.json.error?.code === 10503);
      expect(ok).toBeGreaterThanOrEqual(2);
      expect(busy.length).toBeGreaterThan(0);
      expect(ok + busy.length).toBe(12);
      expect(busy[0]!.json.error).toStrictEqual({ code: 10503, message: "The service is busy; please try again", retryAfter: 1 });
      // Shedding did not count as failures: the account is not blocked.
      expect((await post(`${svc.url}/api/session.setCookie`, { user: "coyote", password: COYOTE.password })).json.ok).toBe(true);
    } finally {
      await svc.close();
    }
  });
});

describe("audit events", () => {
  it("every decision is one event with app, account, IP, user agent and request id; no secret is ever logged", async () => {
    const svc = await startTestService();
    try {
      const headers = { "user-agent": "audit-test/1.0", "x-request-id": "req-123" };
      await post(`${svc.url}/api/session.setCookie`, { user: "coyote", password: COYOTE.password }, headers);
      await post(`${svc.url}/api/session.setCookie`, { user: "coyote", password: "Wr0ng-secret!" }, headers);
      await post(`${svc.url}/api/session.setCookie`, { user: "ghost", password: "Wr0ng-secret!" }, headers);
      await post(`${svc.url}/api/session.setCookie`, { user: "roadrunner", password: "meep-meep-42" }, headers);
      await post(`${svc.url}/api/user.info`, {}, { ...headers, authorization: "Bearer forged.token.value" });
      await post(`${svc.url}/api/session.refreshToken`, { token: "forged.token.value" }, headers);
      const audit = svc.logs.filter((l) => l.audit);
      expect(audit.map((e) => [e.event, e.reason])).toStrictEqual([
        ["sign_in.success", undefined],
        ["sign_in.new_device", undefined], // no device credential presented (issue 16)
        ["sign_in.failure", "wrong_password"],
        ["sign_in.failure", "unknown_account"],
        ["second_factor.required", "TOTP"],
        ["session_token.invalid", "Info"],
        ["session_token.invalid", "RefreshToken"],
      ]);
      expect(audit[0]).toMatchObject({ appId: "default", accountId: COYOTE.id, ip: "127.0.0.1", userAgent: "audit-test/1.0", requestId: "req-123", surface: "yeep" });
      expect(audit[1]).toMatchObject({ accountId: COYOTE.id, ip: "127.0.0.1", userAgent: "audit-test/1.0", requestId: "req-123" });
      expect(audit[2]).toMatchObject({ accountId: COYOTE.id });
      expect(audit[3]!.accountId).toBeUndefined();
      const all = JSON.stringify(svc.logs);
      for (const secret of ["Wr0ng-secret!", COYOTE.password, "meep-meep-42", "forged.token.value"]) expect(all).not.toContain(secret);
    } finally {
      await svc.close();
    }
  });
});

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => (s.end(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

/** Polls a condition about another process (bounded), not a wait for time to pass. */
async function waitFor(cond: () => Promise<boolean>, maxMs = 10_000): Promise<void> {
  const end = Date.now() + maxMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}
