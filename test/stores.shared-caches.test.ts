// Accounts and apps are cached in each instance; a write on one instance must apply on every
// other as soon as it returns, and a cache must not serve while it cannot tell.
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../gen/signin/admin/v1/admin_pb.js";
import { ManualClock } from "../src/core/clock.js";
import { StoreUnavailable } from "../src/core/ephemeral.js";
import { MemoryEphemeralStore } from "../src/stores/memory/ephemeral.js";
import { ReadCache } from "../src/stores/read-cache.js";
import { COYOTE, post, startTestInstances, type TestService } from "./support/service.js";

/** The in-process store, switchable to unreachable as Redis can be. */
class FlakyStore extends MemoryEphemeralStore {
  down = false;
  override get(key: string) {
    return this.down ? Promise.reject(new Error("connection refused")) : super.get(key);
  }
  override increment(key: string, ttlMs: number) {
    return this.down ? Promise.reject(new Error("connection refused")) : super.increment(key, ttlMs);
  }
}

describe("ReadCache", () => {
  const setup = () => {
    const clock = new ManualClock(0);
    const store = new FlakyStore(clock);
    let loads = 0;
    // Two instances' caches over one shared store.
    const [here, there] = [0, 1].map(() => new ReadCache<string>(store, "things", 1000, 3, () => clock.now()));
    const get = (key: string, cache = here!) => cache.get(key, async () => `${key}#${++loads}`);
    return { store, here: here!, there: there!, get, loads: () => loads, clock };
  };

  it("loads once per key until a write on any instance or the entry's expiry", async () => {
    const { here, there, get, loads, clock } = setup();
    expect(await Promise.all([get("a"), get("a")])).toStrictEqual(["a#1", "a#1"]);
    expect(await get("a")).toBe("a#1");
    await there.write(async () => {});
    expect(await get("a")).toBe("a#2");
    await here.write(async () => {});
    expect(await get("a")).toBe("a#3");
    clock.advance(1000);
    expect(await get("a")).toBe("a#4");
    expect(loads()).toBe(4);
  });

  it("a load that overlaps a write is not kept", async () => {
    const { here, there, get } = setup();
    let release!: () => void;
    const slow = here.get("a", () => new Promise((r) => (release = () => r("a#old"))));
    await there.write(async () => {}); // committed while the load was reading
    release();
    expect(await slow).toBe("a#old");
    expect(await get("a")).toBe("a#1");
  });

  it("a failed write still outdates entries; failed loads are not kept", async () => {
    const { here, get } = setup();
    expect(await get("a")).toBe("a#1");
    await expect(here.write(async () => Promise.reject(new Error("constraint")))).rejects.toThrow("constraint");
    expect(await get("a")).toBe("a#2");
    await expect(here.get("b", () => Promise.reject(new Error("db down")))).rejects.toThrow("db down");
    expect(await get("b")).toBe("b#3");
  });

  it("with the shared store unreachable, reads go to the database and writes are refused before they start", async () => {
    const { store, here, get } = setup();
    expect(await get("a")).toBe("a#1");
    store.down = true;
    expect(await get("a")).toBe("a#2");
    expect(await get("a")).toBe("a#3");
    let wrote = false;
    await expect(here.write(async () => void (wrote = true))).rejects.toBeInstanceOf(StoreUnavailable);
    expect(wrote).toBe(false);
  });

  it("holds at most maxEntries, dropping the oldest", async () => {
    const { get } = setup();
    for (const k of ["a", "b", "c", "d"]) await get(k); // a#1 b#2 c#3 d#4
    expect(await get("d")).toBe("d#4");
    expect(await get("b")).toBe("b#2");
    expect(await get("a")).toBe("a#5");
  });
});

describe("two instances, one database, one Redis", () => {
  const ADMIN_TOKEN = "admin-token-for-tests-0123456789abcdef";
  let close: () => Promise<void>;
  let a: TestService;
  let b: TestService;
  beforeAll(async () => {
    const started = await startTestInstances(2, { ADMIN_TOKEN });
    [a, b] = started.instances as [TestService, TestService];
    close = started.close;
  });
  afterAll(() => close?.());

  const adminOf = (svc: TestService) =>
    createClient(AdminService, createConnectTransport({ baseUrl: svc.url, httpVersion: "1.1", interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${ADMIN_TOKEN}`), next(req))] }));
  const signIn = (svc: TestService, password: string) => post(`${svc.url}/api/session.setCookie`, { user: "coyote", password }).then((r) => r.json);

  it("a new password, a second factor and a deactivation made on one apply on the other at once", async () => {
    expect((await signIn(b, COYOTE.password)).ok).toBe(true); // b now holds coyote in its cache

    await adminOf(a).setPassword({ id: COYOTE.id, password: "a new password 1" });
    expect((await signIn(b, COYOTE.password)).error.code).toBe(10002);
    expect((await signIn(b, "a new password 1")).ok).toBe(true);

    await adminOf(a).enrollTotp({ id: COYOTE.id });
    expect((await signIn(b, "a new password 1")).error.code).toBe(10034);

    await adminOf(a).updateAccount({ id: COYOTE.id, deactivated: true });
    expect((await signIn(b, "a new password 1")).error.code).toBe(10022);
  });

  it("an app suspended on one is suspended on the other at once", async () => {
    const { app, appToken } = await adminOf(a).createApp({ app: { id: "shop", name: "Shop" } });
    const login = (svc: TestService) =>
      post(`${svc.url}/api/appuser/login`, { handle: "nobody@shop.io", password: "5f4dcc3b5aa765d61d8327deb882cf99" }, { "app-token": appToken }).then((r) => r.json.code);
    expect(await login(b)).toBe(600); // known app, unknown user
    await adminOf(a).updateApp({ id: app!.id, status: "suspended" });
    expect(await login(b)).toBe(402); // suspended
  });
});
