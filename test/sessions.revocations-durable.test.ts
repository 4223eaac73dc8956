// Revocation stamps are kept in the database and only cached in Redis: after Redis loses its
// keys (a flush, a failover to an empty replica), revoked sessions and access tokens stay revoked.
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { AdminService } from "../gen/signin/admin/v1/admin_pb.js";
import { APP_TOKENS, COSYNC_APPS, cosync, md5, WILE } from "./support/cosync.js";
import { COYOTE, post, startTestService, type TestService } from "./support/service.js";

const ADMIN_TOKEN = "admin-token-for-tests-0123456789abcdef";

describe("revocations survive a Redis flush", () => {
  let svc: TestService;
  let redis: Redis;
  beforeAll(async () => {
    svc = await startTestService({ ADMIN_TOKEN }, [COYOTE, WILE], COSYNC_APPS);
    redis = new Redis(inject("redisUrl"));
  });
  afterAll(async () => {
    redis?.disconnect();
    await svc?.close();
  });

  /** Deletes every key of this test's service (its prefix only: the Redis is shared). */
  const flushOwnKeys = async () => {
    let cursor = "0";
    for (let i = 0; i < 1000; i++) {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${svc.config.redisKeyPrefix}*`, "COUNT", 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
      if (cursor === "0") break;
    }
  };

  it("a revoked Cosync access-token and a revoked session's refresh stay refused; new sign-ins work", async () => {
    const admin = createClient(AdminService, createConnectTransport({ baseUrl: svc.url, httpVersion: "1.1", interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${ADMIN_TOKEN}`), next(req))] }));
    const wileLogin = () => cosync(svc.url, "login", { handle: WILE.handle, password: md5(WILE.password) }, { "app-token": APP_TOKENS.acme });
    const access = (await wileLogin()).json["access-token"] as string;
    const session = (await post(`${svc.url}/api/session.issueToken`, { user: "coyote", password: COYOTE.password })).json.token as string;
    const wileId = (await admin.listAccounts({ appId: "acme" })).accounts.find((a) => a.email === WILE.handle)!.id;
    svc.clock.advance(1000);
    await admin.revokeSessions({ id: wileId });
    await admin.revokeSessions({ id: COYOTE.id });
    expect((await cosync(svc.url, "getUser", null, { "access-token": access })).json.code).toBe(405);

    await flushOwnKeys();
    expect(await redis.keys(`${svc.config.redisKeyPrefix}revoked-*`)).toStrictEqual([]);
    expect((await cosync(svc.url, "getUser", null, { "access-token": access })).json.code).toBe(405);
    svc.clock.advance(1);
    expect((await cosync(svc.url, "getUser", null, { "access-token": (await wileLogin()).json["access-token"] })).status).toBe(200);
    // The session record itself went with the flush; its token is refused either way (no resurrection).
    expect((await post(`${svc.url}/api/session.refreshToken`, { token: session })).json.error.code).toBe(10029);
  });
});
