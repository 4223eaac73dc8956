// Remembered devices alone (core, no server): a record per account and hashed device id, for the
// app's days, ended by the account's revocation stamp, forgettable and listed; on the in-process
// store and on the real Redis.
import { createHash } from "node:crypto";
import { afterAll, describe, expect, inject, it } from "vitest";
import { ManualClock } from "../src/core/clock.js";
import type { EphemeralStore } from "../src/core/ephemeral.js";
import { DAY_MS, RememberedDevices } from "../src/core/devices/remembered-devices.js";
import type { RequestContext } from "../src/core/request-context.js";
import { Revocations } from "../src/core/sessions/revocations.js";
import { MemoryEphemeralStore } from "../src/stores/memory/ephemeral.js";
import { RedisEphemeralStore } from "../src/stores/redis/ephemeral.js";
import { uniqueName } from "./support/service.js";

const ACCOUNT = "507f191e810c19729de860ea";
const OTHER = "5f1a2b3c4d5e6f7a8b9c0d1e";
const ctx: RequestContext = { surface: "yeep", ip: "203.0.113.7", userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", requestId: "r1" };

const opened: RedisEphemeralStore[] = [];
afterAll(() => Promise.all(opened.map((s) => s.close())));

async function world(kind: "memory" | "redis") {
  const clock = new ManualClock(1_700_000_000_000);
  let store: EphemeralStore;
  if (kind === "redis") {
    const redis = new RedisEphemeralStore(inject("redisUrl"), `${uniqueName("remember")}:`);
    opened.push(redis);
    await redis.ready();
    store = redis;
  } else store = new MemoryEphemeralStore(clock);
  const revocations = new Revocations(store, clock, 400 * DAY_MS);
  return { clock, store, revocations, remembered: new RememberedDevices(store, revocations, clock) };
}

describe.each(["memory", "redis"] as const)("remembered devices (%s store)", (kind) => {
  it("remembered for the app's days, for that account only; 0 days remembers nothing", async () => {
    const { clock, remembered } = await world(kind);
    await remembered.remember(ACCOUNT, "device-a", ctx, 30);
    await remembered.remember(ACCOUNT, "device-b", ctx, 0);
    expect(await remembered.isRemembered(ACCOUNT, "device-a")).toBe(true);
    expect(await remembered.isRemembered(ACCOUNT, "device-b")).toBe(false);
    expect(await remembered.isRemembered(OTHER, "device-a")).toBe(false);
    clock.advance(30 * DAY_MS - 1);
    expect(await remembered.isRemembered(ACCOUNT, "device-a")).toBe(true);
    // The app's period shortened since: a device remembered longer ago than the new period is not any more.
    expect(await remembered.isRemembered(ACCOUNT, "device-a", 29)).toBe(false);
    clock.advance(1);
    expect(await remembered.isRemembered(ACCOUNT, "device-a")).toBe(false);
  });

  it("a revocation of the account (new password, factor change, deactivation) ends every device remembered before it", async () => {
    const { clock, remembered, revocations } = await world(kind);
    await remembered.remember(ACCOUNT, "device-a", ctx, 30);
    clock.advance(1);
    await revocations.revokeAll(ACCOUNT, "the-callers-own-session");
    expect(await remembered.isRemembered(ACCOUNT, "device-a")).toBe(false);
    expect(await remembered.list(ACCOUNT)).toStrictEqual([]);
    clock.advance(1);
    await remembered.remember(ACCOUNT, "device-a", ctx, 30); // remembered again after a new code
    expect(await remembered.isRemembered(ACCOUNT, "device-a")).toBe(true);
  });

  it("stored and listed by a hash of the device id, with when, where and what; forget ends one", async () => {
    const { clock, store, remembered } = await world(kind);
    await remembered.remember(ACCOUNT, "device-a", ctx, 30);
    clock.advance(1000);
    await remembered.remember(ACCOUNT, "device-b", { ...ctx, ip: "198.51.100.0/24", userAgent: "x".repeat(1000) }, 7);
    const hash = (id: string) => createHash("sha256").update(id).digest("base64url");
    const list = await remembered.list(ACCOUNT);
    expect(list).toStrictEqual([
      { deviceHash: hash("device-b"), createdAt: clock.now(), endsAt: clock.now() + 7 * DAY_MS, ip: "198.51.100.0/24", userAgent: "x".repeat(256) },
      { deviceHash: hash("device-a"), createdAt: clock.now() - 1000, endsAt: clock.now() - 1000 + 30 * DAY_MS, ip: ctx.ip, userAgent: ctx.userAgent },
    ]);
    expect(await store.get(`remembered:${ACCOUNT}:${hash("device-a")}`)).not.toContain("device-a");
    await remembered.forget(ACCOUNT, "device-b");
    expect(await remembered.isRemembered(ACCOUNT, "device-b")).toBe(false);
    expect((await remembered.list(ACCOUNT)).map((d) => d.deviceHash)).toStrictEqual([hash("device-a")]);
  });
});
