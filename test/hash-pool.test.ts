// The hashing pool: bounded concurrency and queue, immediate "busy" beyond, and suspect
// (low-priority) callers limited to half the queue and served after everyone else.
import { describe, expect, it } from "vitest";
import { HashPool, HashPoolBusy } from "../src/core/password/hash-pool.js";

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

describe("HashPool", () => {
  it("runs at most `concurrency` at once, queues up to `maxQueued`, sheds the rest at once", async () => {
    const pool = new HashPool(2, 2);
    const g = gate();
    let running = 0;
    let peak = 0;
    const work = async () => {
      running++;
      peak = Math.max(peak, running);
      await g.opened;
      running--;
    };
    const accepted = [pool.run(work), pool.run(work), pool.run(work), pool.run(work)];
    await expect(pool.run(work)).rejects.toBeInstanceOf(HashPoolBusy);
    expect(pool.queued).toBe(2);
    g.open();
    await Promise.all(accepted);
    expect(peak).toBe(2);
    expect(pool.queued).toBe(0);
  });

  it("low priority gets half the queue and runs after normal waiters", async () => {
    const pool = new HashPool(1, 4);
    const g = gate();
    const order: string[] = [];
    const first = pool.run(() => g.opened);
    const low1 = pool.run(async () => void order.push("low1"), "low");
    const low2 = pool.run(async () => void order.push("low2"), "low");
    await expect(pool.run(async () => {}, "low")).rejects.toBeInstanceOf(HashPoolBusy); // half of 4 is taken
    const normal = pool.run(async () => void order.push("normal"));
    g.open();
    await Promise.all([first, low1, low2, normal]);
    expect(order).toStrictEqual(["normal", "low1", "low2"]);
  });
});
