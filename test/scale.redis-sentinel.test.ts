// REDIS_URL=redis+sentinel://...: the service finds the primary through Sentinel, and after the
// primary dies and Sentinel promotes the replica, sign-in works again without a restart.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisSentinel, type RedisSentinelHandle } from "./support/redis-sentinel.js";
import { COYOTE, post, startTestService, type TestService } from "./support/service.js";

describe("Redis through Sentinel", () => {
  let redis: RedisSentinelHandle;
  let svc: TestService;
  beforeAll(async () => {
    redis = await startRedisSentinel();
    svc = await startTestService({ REDIS_URL: redis.url });
  }, 30_000);
  afterAll(async () => {
    await svc?.close();
    redis?.stop();
  });

  const signIn = () => post(`${svc.url}/api/session.setCookie`, { user: "coyote", password: COYOTE.password });

  it("signs in through the Sentinel-named primary, and again after a failover", async () => {
    expect((await signIn()).json.ok).toBe(true);
    const before = await redis.primaryPort();
    redis.killPrimary();
    const answers: Array<number | string> = [];
    const deadline = Date.now() + 30_000;
    while (answers.at(-1) !== "ok" && Date.now() < deadline) {
      const res = await signIn();
      expect(res.status).toBeLessThan(500);
      answers.push(res.json.ok ? "ok" : res.json.error.code);
    }
    expect(answers.at(-1)).toBe("ok");
    expect(answers.filter((a) => a !== "ok" && a !== 10503)).toStrictEqual([]);
    expect(await redis.primaryPort()).not.toBe(before);
  }, 40_000);
});
