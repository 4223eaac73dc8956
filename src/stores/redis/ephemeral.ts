// EphemeralStore on Redis, shared by every instance. Keys carry a prefix so that
// deployments (and test runs) sharing one Redis never see each other's state.
import { Redis } from "ioredis";
import type { EphemeralStore } from "../../core/ephemeral.js";

// Compare-and-set in one server-side step (see EphemeralStore.advance).
const ADVANCE = `
local current = redis.call('GET', KEYS[1])
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

// Counter whose TTL starts with its first increment, in one step.
const INCREMENT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

type RedisWithAdvance = Redis & {
  advance(key: string, value: number, ttlMs: number): Promise<number>;
  increment(key: string, ttlMs: number): Promise<number>;
};

export class RedisEphemeralStore implements EphemeralStore {
  private readonly redis: RedisWithAdvance;

  constructor(url: string, keyPrefix: string) {
    this.redis = new Redis(url, { keyPrefix, maxRetriesPerRequest: 2, lazyConnect: false }) as RedisWithAdvance;
    this.redis.defineCommand("advance", { numberOfKeys: 1, lua: ADVANCE });
    this.redis.defineCommand("increment", { numberOfKeys: 1, lua: INCREMENT });
  }

  get(key: string): Promise<string | null> {
    return this.redis.get(key);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.redis.set(key, value, "PX", Math.max(1, Math.ceil(ttlMs)));
  }

  take(key: string): Promise<string | null> {
    return this.redis.getdel(key);
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(key);
  }

  async advance(key: string, value: number, ttlMs: number): Promise<boolean> {
    return (await this.redis.advance(key, value, Math.max(1, Math.ceil(ttlMs)))) === 1;
  }

  increment(key: string, ttlMs: number): Promise<number> {
    return this.redis.increment(key, Math.max(1, Math.ceil(ttlMs)));
  }

  /** Resolves once connected; start-up fails clearly when Redis is unreachable. */
  async ready(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
