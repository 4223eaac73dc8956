// SMS codes are kept in Redis only as an HMAC under a server secret that is not in Redis: a dump
// of Redis (key names and hashes) is not enough to try the million codes offline. Every instance
// of a deployment has the same secret (SIGNIN_MASTER_KEY's, else one stored in the database).
import { createHmac } from "node:crypto";
import { Redis } from "ioredis";
import { afterEach, describe, expect, inject, it } from "vitest";
import { APP_TOKENS, COSYNC_APPS, COSYNC_USERS, cosync, md5, SmsReceiver } from "./support/cosync.js";
import { startTestInstances, startTestService, type TestService } from "./support/service.js";

const phoneApp = { "app-token": APP_TOKENS.phone };
const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Signs caller@phone.co in on `svc`; the login token, the texted code and the stored challenge. */
async function smsLogin(svc: TestService, sms: SmsReceiver) {
  const loginToken = (await cosync(svc.url, "login", { handle: "caller@phone.co", password: md5("ring-ring") }, phoneApp)).json["login-token"] as string;
  expect(loginToken).toEqual(expect.any(String));
  const redis = new Redis(inject("redisUrl"), { keyPrefix: svc.config.redisKeyPrefix });
  const key = `login-token:${loginToken}`;
  const stored = JSON.parse((await redis.get(key))!) as { codeHash: string };
  redis.disconnect();
  return { loginToken, code: sms.last().body.code, key, codeHash: stored.codeHash };
}

/** What someone holding only the Redis dump can compute: the old scheme, keyed by the key name. */
const fromDumpAlone = (key: string, code: string) => createHmac("sha256", key).update(code).digest("hex");

describe("SMS code hashes", () => {
  it("without a master key: not computable from Redis alone, and one instance checks the code another sent", async () => {
    const sms = await new SmsReceiver().start();
    cleanups.push(() => sms.close());
    const env = { SMS_WEBHOOK_URL: sms.url, SMS_WEBHOOK_SECRET: sms.secret };
    const { instances, close } = await startTestInstances(2, env, COSYNC_USERS, COSYNC_APPS);
    cleanups.push(close);
    const [a, b] = instances as [TestService, TestService];

    const sent = await smsLogin(a, sms);
    expect(sent.codeHash).toMatch(/^[0-9a-f]{64}$/);
    expect(sent.codeHash).not.toBe(fromDumpAlone(sent.key, sent.code));
    const done = await cosync(b.url, "loginComplete", { loginToken: sent.loginToken, code: sent.code }, phoneApp);
    expect(done.status).toBe(200);
    expect(done.json["access-token"]).toEqual(expect.any(String));
  });

  it("with SIGNIN_MASTER_KEY: not computable from Redis alone either, and the code completes the sign-in", async () => {
    const sms = await new SmsReceiver().start();
    cleanups.push(() => sms.close());
    const svc = await startTestService(
      { SMS_WEBHOOK_URL: sms.url, SMS_WEBHOOK_SECRET: sms.secret, SIGNIN_MASTER_KEY: "a-master-key-of-at-least-32-characters!" },
      COSYNC_USERS,
      COSYNC_APPS,
    );
    cleanups.push(() => svc.close());
    const sent = await smsLogin(svc, sms);
    expect(sent.codeHash).not.toBe(fromDumpAlone(sent.key, sent.code));
    expect((await cosync(svc.url, "loginComplete", { loginToken: sent.loginToken, code: sent.code }, phoneApp)).status).toBe(200);
  });
});
