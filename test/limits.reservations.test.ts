// SignInLimits on both limiter backends (Redis: shared by instances; memory: the embedded default):
// attempts checked at the same time reserve their count, so exactly the limit gets through;
// refused and released attempts count nowhere, and a release never undoes a block.
import { inject } from "vitest";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { SignInLimits, type Decision } from "../src/core/limits/sign-in-limits.js";
import { memoryLimiters, redisLimiters } from "../src/stores/limiters.js";
import { RedisEphemeralStore } from "../src/stores/redis/ephemeral.js";
import { uniqueName } from "./support/service.js";

const stores: RedisEphemeralStore[] = [];
afterAll(async () => {
  for (const s of stores) await s.close();
});

const backends = {
  memory: () => memoryLimiters(),
  redis: async () => {
    const store = new RedisEphemeralStore(inject("redisUrl"), `${uniqueName("rl")}:`);
    stores.push(store);
    await store.ready();
    return redisLimiters(store.client);
  },
};

const subject = (ip = "192.0.2.1") => ({ ip, appId: "default", login: "coyote" });
const allowed = (ds: Decision[]) => ds.filter((d) => !d.limited).length;

describe.each(Object.keys(backends) as Array<keyof typeof backends>)("%s limiters", (backend) => {
  const limits = async (env: Record<string, string>) => new SignInLimits(await backends[backend](), loadConfig(env).limits);

  it("12 checks at once against 3 per account and IP: 3 allowed; the 3 failures then block the pair", async () => {
    const l = await limits({ LIMIT_ACCOUNT_IP_FAILURES: "3" });
    const decisions = await Promise.all(Array.from({ length: 12 }, () => l.check(subject())));
    expect(allowed(decisions)).toBe(3);
    // Refused while the three are in flight: retry soon, not after a block.
    expect(decisions.filter((d) => d.limited).map((d) => d.limited && d.retryAfterSeconds)).toStrictEqual(Array(9).fill(1));
    for (const d of decisions) if (!d.limited) await l.recordPassword(subject(), false, d);
    const blocked = await l.check(subject());
    expect(blocked).toMatchObject({ limited: true, limiter: "account-ip" });
    expect(blocked.limited && blocked.retryAfterSeconds).toBeGreaterThan(1);
  });

  it("released and refused attempts count nowhere: after them, the full limit is still there", async () => {
    const l = await limits({ LIMIT_ACCOUNT_IP_FAILURES: "3", LIMIT_IP_FAILURES: "3/600" });
    const first = await Promise.all(Array.from({ length: 6 }, () => l.check(subject())));
    expect(allowed(first)).toBe(3);
    await Promise.all(first.filter((d) => !d.limited).map(() => l.release(subject())));
    const again = await Promise.all(Array.from({ length: 6 }, () => l.check(subject())));
    expect(allowed(again)).toBe(3);
  });

  it("a success gives its reservation back and resets the pair", async () => {
    const l = await limits({ LIMIT_ACCOUNT_IP_FAILURES: "2" });
    const d = await l.check(subject());
    expect(d).toMatchObject({ limited: false, clean: true, tries: 1 });
    await l.recordPassword(subject(), true, d as Extract<Decision, { limited: false }>);
    const next = await Promise.all([l.check(subject()), l.check(subject()), l.check(subject())]);
    expect(allowed(next)).toBe(2);
  });
});
