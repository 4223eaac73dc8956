// Two instances on a 3-primary Redis Cluster (one replica each) and one database: single-use
// tokens and codes, sessions and limits hold across both; when a primary is lost, ioredis retries
// commands for its slots while the replica takes over (~2-3 s here, bounded), so sign-in waits
// or is refused retryably, then works again without a restart.
import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP_TOKENS, COSYNC_APPS, COSYNC_USERS, cosync, md5, RR } from "./support/cosync.js";
import { startRedisCluster, type RedisClusterHandle } from "./support/redis-cluster.js";
import { COYOTE, post, ROADRUNNER, startTestInstances, TOTP_SECRET, type TestService } from "./support/service.js";

const acme = { "app-token": APP_TOKENS.acme };
const codeAt = (ms: number) => generate({ secret: TOTP_SECRET, epoch: Math.floor(ms / 1000) });

describe("two instances on a Redis Cluster", () => {
  let redis: RedisClusterHandle;
  let a: TestService;
  let b: TestService;
  let close: () => Promise<void>;

  beforeAll(async () => {
    redis = await startRedisCluster(3, 1);
    const env = { REDIS_URL: redis.url, LIMIT_ACCOUNT_IP_FAILURES: "3", LIMIT_ACCOUNT_FAILURES: "4/3600", LIMIT_ACCOUNT_DELAY_AFTER: "100", TRUSTED_PROXIES: "127.0.0.1/32" };
    const started = await startTestInstances(2, env, [COYOTE, ROADRUNNER, ...COSYNC_USERS], COSYNC_APPS);
    [a, b] = started.instances as [TestService, TestService];
    close = started.close;
    b.clock.advance(a.clock.now() - b.clock.now()); // one time for both, as NTP gives instances
  }, 60_000);
  afterAll(async () => {
    await close?.();
    redis?.stop();
  });

  const signIn = (svc: TestService, body: Record<string, unknown>) => post(`${svc.url}/api/session.setCookie`, body);

  /** Sign-in answers of `svc` until one gets as far as asking for the second factor (bounded). */
  async function untilPasswordChecked(svc: TestService): Promise<Array<number | string>> {
    const answers: Array<number | string> = [];
    const deadline = Date.now() + 30_000;
    while (answers.at(-1) !== 10034 && Date.now() < deadline) {
      const res = await signIn(svc, { user: "roadrunner", password: ROADRUNNER.password });
      expect(res.status).toBeLessThan(500); // never an internal error
      answers.push(res.json.error?.code ?? "ok");
    }
    return answers;
  }

  it("a session made on one is valid on the other; a login token spent on one is refused on the other", async () => {
    const signedIn = await signIn(a, { user: "coyote", password: COYOTE.password });
    const cookie = signedIn.headers.get("set-cookie")!.split(";")[0]!;
    expect((await post(`${b.url}/api/user.info`, {}, { cookie })).json.user.id).toBe(COYOTE.id);

    const loginToken = (await cosync(a.url, "login", { handle: RR.handle, password: md5(RR.password) }, acme)).json["login-token"];
    expect(loginToken).toMatch(/\S{20,}/);
    const code = await codeAt(a.clock.now());
    const done = await cosync(b.url, "loginComplete", { loginToken, code }, acme);
    expect(Object.keys(done.json).sort()).toStrictEqual(["access-token", "device-token", "jwt"]);
    a.clock.advance(30_000); // a fresh code: only the token itself can be refused
    b.clock.advance(30_000);
    expect((await cosync(a.url, "loginComplete", { loginToken, code: await codeAt(a.clock.now()) }, acme)).json.code).toBe(613);
  });

  it("a TOTP code accepted by one is refused by the other", async () => {
    const code = await codeAt(a.clock.now());
    const creds = { user: "roadrunner", password: ROADRUNNER.password, secondaryAuthFactor: { type: "TOTP", token: code } };
    expect((await signIn(b, creds)).json.ok).toBe(true);
    expect((await signIn(a, creds)).json.error.code).toBe(10035);
  });

  it("the per-account-and-IP failure limit of 3 allows exactly 3 failures across both, even all at once", async () => {
    const attempts = [a, b, a, b, a, b, a, b].map((svc) => signIn(svc, { user: "coyote", password: "not it" }));
    const answers = (await Promise.all(attempts)).map((r) => r.json.error.code).sort();
    expect(answers).toStrictEqual([10002, 10002, 10002, 10429, 10429, 10429, 10429, 10429]);
    expect((await signIn(a, { user: "coyote", password: COYOTE.password })).json.error.code).toBe(10429);
  });

  it("the per-account limit of 4 across IPs allows exactly 4 failures across both, even all at once", async () => {
    // An unknown login is limited exactly like an account.
    const attempts = Array.from({ length: 10 }, (_, i) =>
      post(`${[a, b][i % 2]!.url}/api/session.setCookie`, { user: "nobody", password: "x" }, { "x-forwarded-for": `198.51.100.${i + 1}` }),
    );
    const answers = (await Promise.all(attempts)).map((r) => r.json.error.code).sort();
    expect(answers).toStrictEqual([...Array(4).fill(10002), ...Array(6).fill(10429)]);
  });

  it("a primary dies: sign-in waits out the failover or is refused retryably (10503), then works on both without a restart", async () => {
    // The primary of a key every sign-in reads (the apps' cache generation).
    const victim = await redis.primaryFor(`${a.config.redisKeyPrefix}generation:apps`);
    redis.kill(victim);
    for (const svc of [a, b]) {
      const answers = await untilPasswordChecked(svc);
      expect(answers.at(-1)).toBe(10034); // the password was checked: Redis answered every step
      expect(answers.filter((c) => c !== 10503 && c !== 10034)).toStrictEqual([]);
    }
    expect(await redis.primaries()).not.toContain(victim);
    const code = await codeAt(a.clock.now() + 60_000);
    a.clock.advance(60_000);
    const withCode = { user: "roadrunner", password: ROADRUNNER.password, secondaryAuthFactor: { type: "TOTP", token: code } };
    expect((await signIn(a, withCode)).json.ok).toBe(true);
  }, 60_000);
});
