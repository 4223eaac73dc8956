// Redis round trips per request, counted by a private redis-server (INFO total_reads_processed:
// one read event per pipelined batch), so that no other client's traffic counts. A sign-in reads
// the app's cache generation together with the limits, reserving the attempt (one trip), and
// writes the session with its audit entry and the reservation's release (one more).
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisServer } from "./support/global-setup.js";
import { APP_TOKENS, COSYNC_APPS, cosync, md5, WILE } from "./support/cosync.js";
import { COYOTE, post, startTestService, type TestService } from "./support/service.js";

describe("Redis round trips", () => {
  let redis: { url: string; stop: () => void };
  let svc: TestService;
  let probe: Redis;
  beforeAll(async () => {
    redis = await startRedisServer();
    svc = await startTestService({ REDIS_URL: redis.url }, [COYOTE, WILE], COSYNC_APPS);
    probe = new Redis(redis.url);
  });
  afterAll(async () => {
    probe?.disconnect();
    await svc?.close();
    redis?.stop();
  });

  const reads = async () => Number(/total_reads_processed:(\d+)/.exec(await probe.info("stats"))![1]);
  /** Round trips the service made during `fn` (the second INFO's own read is not one of them). */
  const roundTrips = async (fn: () => Promise<unknown>) => {
    const before = await reads();
    await fn();
    return (await reads()) - before - 1;
  };
  const signIn = async (password = COYOTE.password) => {
    const res = await post(`${svc.url}/api/session.setCookie`, { user: "coyote", password });
    return res;
  };

  it("a sign-in without a second factor makes two", async () => {
    expect((await signIn()).json.ok).toBe(true); // the app cache warms up
    const trips: number[] = [];
    for (let i = 0; i < 3; i++) trips.push(await roundTrips(async () => expect((await signIn()).json.ok).toBe(true)));
    expect(trips).toStrictEqual([2, 2, 2]);
  });

  it("a wrong password makes two: the reservation is the failure's count", async () => {
    await signIn();
    expect(await roundTrips(async () => expect((await signIn("wrong")).json.error.code).toBe(10002))).toBe(2);
    expect(await roundTrips(async () => expect((await signIn()).json.ok).toBe(true))).toBe(2); // and resets it
  });

  it("a sign-in presenting its device cookie makes two: the device's budget is read with the limits", async () => {
    const device = (res: { headers: Headers }) => res.headers.getSetCookie().find((c) => c.startsWith("device="))!.split(";")[0]!;
    const first = await signIn();
    const withDevice = (password: string, cookie: string) => post(`${svc.url}/api/session.setCookie`, { user: "coyote", password }, { cookie });
    const cookie = device(first);
    expect(await roundTrips(async () => expect((await withDevice(COYOTE.password, cookie)).json.ok).toBe(true))).toBe(2);
    expect(await roundTrips(async () => expect((await withDevice("wrong", cookie)).json.error.code).toBe(10002))).toBe(2);
  });

  it("user.info with a session makes one: the session, its revocation time and the account's cache generation together", async () => {
    const res = await signIn();
    const cookie = res.headers.get("set-cookie")!.split(";")[0]!;
    await post(`${svc.url}/api/user.info`, {}, { cookie }); // the account cache warms up
    const trips: number[] = [];
    for (let i = 0; i < 3; i++) trips.push(await roundTrips(async () => expect((await post(`${svc.url}/api/user.info`, {}, { cookie })).json.ok).toBe(true)));
    expect(trips).toStrictEqual([1, 1, 1]);
  });

  it("a Cosync user method with an access-token makes one: its record (revocable on its own) is read with the revocation time and the caches' generations", async () => {
    const login = await cosync(svc.url, "login", { handle: WILE.handle, password: md5(WILE.password) }, { "app-token": APP_TOKENS.acme });
    const token = login.json["access-token"] as string;
    expect((await cosync(svc.url, "getUser", null, { "access-token": token })).status).toBe(200); // the caches warm up
    const trips: number[] = [];
    for (let i = 0; i < 3; i++) trips.push(await roundTrips(async () => expect((await cosync(svc.url, "getUser", null, { "access-token": token })).status).toBe(200)));
    expect(trips).toStrictEqual([1, 1, 1]);
  });
});
