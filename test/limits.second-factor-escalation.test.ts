// Wrong second-factor codes escalate: the failure that fills the window blocks the account's
// codes for the window, each further block twice as long (capped); a right code resets it. A
// block's end is brought forward by expiring its Redis key (rate-limiter-flexible's clock is
// Redis's own TTL), so no real time has to pass.
import { afterAll, describe, expect, inject, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { SECOND_FACTOR_BLOCK_DOUBLINGS, SignInLimits } from "../src/core/limits/sign-in-limits.js";
import { redisLimiters } from "../src/stores/limiters.js";
import { RedisEphemeralStore } from "../src/stores/redis/ephemeral.js";
import { uniqueName } from "./support/service.js";

const store = new RedisEphemeralStore(inject("redisUrl"), `${uniqueName("rl")}:`);
afterAll(() => store.close());

const WINDOW = 60;
const ACCOUNT = "acct-1";

describe("second-factor guessing", () => {
  it("each further block doubles up to the cap; a right code starts over", async () => {
    await store.ready();
    const limits = new SignInLimits(redisLimiters(store.client), loadConfig({ LIMIT_SECOND_FACTOR_FAILURES: `2/${WINDOW}` }).limits);
    /** Two wrong codes (the window's budget), then how long the next attempt must wait. */
    const guessTwice = async () => {
      for (let i = 0; i < 2; i++) {
        const verdict = await limits.checkSecondFactor(ACCOUNT);
        if (verdict.limited) throw new Error("refused before the budget was spent");
        await limits.recordSecondFactor(ACCOUNT, false, verdict);
      }
      const refused = await limits.checkSecondFactor(ACCOUNT);
      expect(refused.limited).toBe(true);
      return refused.limited ? refused.retryAfterSeconds : 0;
    };
    const blockEnds = () => store.client.del(`rl:2fa-fail:${ACCOUNT}`);

    // Doubling SECOND_FACTOR_BLOCK_DOUBLINGS (4) times, then capped.
    expect(SECOND_FACTOR_BLOCK_DOUBLINGS).toBe(4);
    const expected = [1, 2, 4, 8, 16, 16].map((f) => f * WINDOW);
    const waits: number[] = [];
    for (let round = 0; round < expected.length; round++) {
      waits.push(await guessTwice());
      await blockEnds();
    }
    waits.forEach((w, i) => expect(w).toBeGreaterThan(expected[i]! - 2)); // a second or so may have passed
    waits.forEach((w, i) => expect(w).toBeLessThanOrEqual(expected[i]!));

    const right = await limits.checkSecondFactor(ACCOUNT);
    if (right.limited) throw new Error("refused after the block ended");
    await limits.recordSecondFactor(ACCOUNT, true, right);
    expect(await guessTwice()).toBeLessThanOrEqual(WINDOW); // back to the first block
  });
});
