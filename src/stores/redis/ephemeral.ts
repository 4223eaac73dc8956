// EphemeralStore on Redis, shared by every instance. Keys carry a prefix so that
// deployments (and test runs) sharing one Redis never see each other's state.
import { StoreUnavailable, type EphemeralStore } from "../../core/ephemeral.js";
import { connectRedis, describeTarget, parseRedisTarget, type RedisClient, type RedisTarget } from "./target.js";

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

// A capped list in one command (the audit trail is written on every sign-in).
const PUSH_CAPPED = `
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

// A member with its own end (the score), in one step: ended members out, the set capped (those
// ending first go), the key kept as long as its last member. ARGV: member, end, now, max.
const ADD_MEMBER = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
if over > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, over - 1) end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(tonumber(last[2]) - tonumber(ARGV[3]))))
return 1`;

type RedisWithAdvance = RedisClient & {
  addMember(key: string, member: string, endsAtMs: number, nowMs: number, max: number): Promise<number>;
  advance(key: string, value: number, ttlMs: number): Promise<number>;
  increment(key: string, ttlMs: number): Promise<number>;
  pushCapped(key: string, value: string, max: number, ttlMs: number): Promise<number>;
};

/** How long start-up waits for Redis before saying it cannot reach it. */
export const READY_TIMEOUT_MS = 3000;

export class RedisEphemeralStore implements EphemeralStore {
  /** Told of every connection error (for metrics). */
  onError: () => void = () => {};
  private readonly redis: RedisWithAdvance;
  private readonly target: RedisTarget;

  /** `target`: a parsed target, or a redis:// URL. */
  constructor(target: RedisTarget | string, keyPrefix: string) {
    const t = typeof target === "string" ? parseRedisTarget(target)! : target;
    this.target = t;
    // One connection with auto-pipelining: the commands issued in one tick (a sign-in's app cache
    // generation and limit checks) go out together, as one round trip.
    this.redis = connectRedis(t, { keyPrefix, enableAutoPipelining: true }) as RedisWithAdvance;
    // Reported through failing commands and metrics, not as process errors.
    this.redis.on("error", () => this.onError());
    this.redis.defineCommand("advance", { numberOfKeys: 1, lua: ADVANCE });
    this.redis.defineCommand("increment", { numberOfKeys: 1, lua: INCREMENT });
    this.redis.defineCommand("pushCapped", { numberOfKeys: 1, lua: PUSH_CAPPED });
    this.redis.defineCommand("addMember", { numberOfKeys: 1, lua: ADD_MEMBER });
  }

  /** The connection (keys prefixed), shared with the rate limiters. */
  get client(): RedisClient {
    return this.redis;
  }

  get(key: string): Promise<string | null> {
    return guard(this.redis.get(key));
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await guard(this.redis.set(key, value, "PX", ms(ttlMs)));
  }

  take(key: string): Promise<string | null> {
    return guard(this.redis.getdel(key));
  }

  async delete(key: string): Promise<void> {
    await guard(this.redis.del(key));
  }

  async advance(key: string, value: number, ttlMs: number): Promise<boolean> {
    return (await guard(this.redis.advance(key, value, ms(ttlMs)))) === 1;
  }

  async pushCapped(key: string, value: string, max: number, ttlMs: number): Promise<void> {
    await guard(this.redis.pushCapped(key, value, max, ms(ttlMs)));
  }

  list(key: string): Promise<string[]> {
    return guard(this.redis.lrange(key, 0, -1));
  }

  increment(key: string, ttlMs: number): Promise<number> {
    return guard(this.redis.increment(key, ms(ttlMs)));
  }

  async replace(key: string, value: string, ttlMs: number): Promise<boolean> {
    return (await guard(this.redis.set(key, value, "PX", ms(ttlMs), "XX"))) === "OK";
  }

  async addMember(key: string, member: string, endsAtMs: number, nowMs: number, max: number): Promise<void> {
    await guard(this.redis.addMember(key, member, endsAtMs, nowMs, max));
  }

  members(key: string, nowMs: number): Promise<string[]> {
    return guard(this.redis.zrangebyscore(key, `(${nowMs}`, "+inf"));
  }

  async removeMember(key: string, member: string): Promise<void> {
    await guard(this.redis.zrem(key, member));
  }

  /** True while connected (for readiness). */
  isReady(): boolean {
    return this.redis.status === "ready";
  }

  /** Resolves once connected; otherwise rejects after `timeoutMs` with a message for the operator. */
  async ready(timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    const c = this.redis;
    if (c.status === "ready") return;
    // One listener pair for the whole wait: ioredis reports every failed retry as an error, and
    // adding listeners per retry piled them up (MaxListenersExceededWarning).
    let last: Error | undefined;
    const onError = (err: Error) => void (last = err);
    let onReady = () => {};
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        onReady = resolve;
        timer = setTimeout(() => reject(new Error(unreachable(this.target, timeoutMs, last), { cause: last })), timeoutMs);
        c.once("ready", onReady).on("error", onError);
      });
    } finally {
      clearTimeout(timer);
      c.off("ready", onReady).off("error", onError);
    }
  }

  async close(): Promise<void> {
    // QUIT waits for an answer, which a server that never became ready may never send.
    if (this.redis.status !== "ready") return this.redis.disconnect();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

const ms = (ttlMs: number) => Math.max(1, Math.ceil(ttlMs));

function guard<T>(p: Promise<T>): Promise<T> {
  return p.catch((err: unknown) => {
    throw new StoreUnavailable("Redis is unavailable", { cause: err });
  });
}

// Names the variable, what was tried, why it failed and what to do.
function unreachable(target: RedisTarget, timeoutMs: number, err: Error | undefined): string {
  const variable = target.kind === "cluster" ? "REDIS_URL (or REDIS_CLUSTER_NODES)" : "REDIS_URL";
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const network: Record<string, string> = {
    ECONNREFUSED: "connection refused",
    ENOTFOUND: "host not found",
    EAI_AGAIN: "host not found",
    ETIMEDOUT: "no answer",
    EHOSTUNREACH: "host unreachable",
    ENETUNREACH: "network unreachable",
    ECONNRESET: "connection reset",
  };
  const where = describeTarget(target);
  if (!err || (code && network[code])) {
    const why = code ? network[code]! : "no answer";
    return `${variable}: cannot reach Redis at ${where} within ${timeoutMs / 1000} s (${why}); start Redis or correct ${variable}, or unset it to use the in-process store`;
  }
  return `${variable}: Redis at ${where} did not accept the connection within ${timeoutMs / 1000} s (${err.message}); correct ${variable}`;
}
