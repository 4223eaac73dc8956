// The core's Limiter on rate-limiter-flexible: RateLimiterRedis (shared by every instance;
// refuses at once while Redis is down) or RateLimiterMemory (embedded default).
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { StoreUnavailable } from "../core/ephemeral.js";
import type { Limiter, LimiterFactory, LimiterSpec, LimiterState } from "../core/limits/limiter.js";
import type { RedisClient } from "./redis/target.js";

// The library's counting script, changed so that a refused attempt is not counted: an increment
// that would go over the limit is not written (so nothing has to be given back, which could undo a
// block set meanwhile), and a decrement never goes below 0 nor revives an expired key.
// ARGV: points (negative to give back), window seconds, limit (as RateLimiterRedis passes them).
const COUNT_UNLESS_OVER = `
local delta = tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or 0)
if delta > 0 and current + delta > tonumber(ARGV[3]) then return {current + delta, redis.call('PTTL', KEYS[1])} end
if delta < 0 then
  if current <= 0 then return {current, redis.call('PTTL', KEYS[1])} end
  return {redis.call('DECRBY', KEYS[1], math.min(-delta, current)), redis.call('PTTL', KEYS[1])}
end
redis.call('SET', KEYS[1], 0, 'EX', ARGV[2], 'NX')
local consumed = redis.call('INCRBY', KEYS[1], delta)
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -1 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  ttl = 1000 * ARGV[2]
end
return {consumed, ttl}`;

// A limiter's state in one script call. RateLimiterRedis reads with MULTI/EXEC, which ioredis
// sends on its own; a script call is auto-pipelined with the request's other commands.
const STATE = "return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}";
type WithState = RedisClient & { limiterState(key: string): Promise<[string | null, number]> };

/** `redis`: the store's connection, which prefixes every key. */
export function redisLimiters(redis: RedisClient): LimiterFactory {
  const client = redis as WithState;
  client.defineCommand("limiterState", { numberOfKeys: 1, lua: STATE });
  return (spec) => {
    const rl = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `rl:${spec.name}`,
      points: spec.points,
      duration: spec.durationSeconds,
      rejectIfRedisNotReady: true,
      customIncrTtlLuaScript: COUNT_UNLESS_OVER,
    });
    const read = async (key: string): Promise<LimiterState | null> => {
      const [consumed, ttl] = await client.limiterState(rl.getKey(key));
      return consumed === null ? null : { consumed: Number(consumed), msBeforeNext: ttl };
    };
    return wrap(rl, spec, read);
  };
}

/**
 * In one process. Each key's operations run one after another, so that a refused count is taken
 * back, and a give-back checked, before anything else reads the key: the answers the Redis script gives.
 */
export function memoryLimiters(): LimiterFactory {
  return (spec) => {
    const rl = new RateLimiterMemory({ keyPrefix: spec.name, points: spec.points, duration: spec.durationSeconds });
    const inner = wrap(rl, spec);
    const serial = perKeySerial();
    return {
      points: spec.points,
      consume: (key, points = 1, seconds) =>
        serial(key, async () => {
          const r = await inner.consume(key, points, seconds);
          if (r.limited) await rl.reward(key, points);
          return r;
        }),
      reward: (key) =>
        serial(key, async () => {
          if (((await inner.get(key))?.consumed ?? 0) > 0) await inner.reward(key);
        }),
      get: (key) => serial(key, () => inner.get(key)),
      block: (key, seconds) => serial(key, () => inner.block(key, seconds)),
      delete: (key) => serial(key, () => inner.delete(key)),
    };
  };
}

function perKeySerial() {
  const tails = new Map<string, Promise<void>>();
  return <T>(key: string, op: () => Promise<T>): Promise<T> => {
    const result = (tails.get(key) ?? Promise.resolve()).then(op);
    const tail = result.then(
      () => {},
      () => {},
    );
    tails.set(key, tail);
    void tail.then(() => tails.get(key) === tail && tails.delete(key));
    return result;
  };
}

function wrap(rl: RateLimiterAbstract, spec: LimiterSpec, read?: (key: string) => Promise<LimiterState | null>): Limiter {
  const state = (r: RateLimiterRes): LimiterState => ({ consumed: r.consumedPoints, msBeforeNext: r.msBeforeNext });
  // rate-limiter-flexible rejects with a RateLimiterRes when over the limit, with an Error when the store failed.
  const store = <T>(p: Promise<T>): Promise<T> =>
    p.catch((err: unknown) => {
      if (err instanceof RateLimiterRes) throw err;
      throw new StoreUnavailable(`rate limiter ${spec.name}`, { cause: err });
    });
  return {
    points: spec.points,
    async consume(key, points = 1, seconds) {
      try {
        return { ...state(await store(rl.consume(key, points, seconds === undefined ? {} : { customDuration: seconds }))), limited: false };
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err;
        return { ...state(err), limited: true };
      }
    },
    async reward(key) {
      await store(rl.reward(key, 1));
    },
    async get(key) {
      if (read) return store(read(key));
      const r = await store(rl.get(key));
      return r ? state(r) : null;
    },
    async block(key, seconds) {
      await store(rl.block(key, seconds));
    },
    async delete(key) {
      await store(rl.delete(key));
    },
  };
}
