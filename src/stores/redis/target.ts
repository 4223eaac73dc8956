// Which Redis the service uses and how to connect to it: one server (redis:// or rediss://), a
// Redis Cluster (redis+cluster://host:port,host:port or REDIS_CLUSTER_NODES) or a primary found
// through Sentinel (redis+sentinel://host:port,host:port/primary-name). Every key the service
// uses stands alone (no command touches two keys), so any key may live in any cluster slot.
import { Cluster, Redis, type RedisOptions } from "ioredis";

export interface HostPort {
  host: string;
  port: number;
}

interface Auth {
  tls: boolean;
  username?: string;
  password?: string;
}

export type RedisTarget =
  | { kind: "single"; url: string }
  | ({ kind: "cluster"; nodes: HostPort[] } & Auth)
  | ({ kind: "sentinel"; sentinels: HostPort[]; name: string } & Auth);

export type RedisClient = Redis | Cluster;

const MULTI_HOST = /^(rediss?)\+(cluster|sentinel):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#@]+)(?:\/([^?#]*))?$/;

/** Parses REDIS_URL (and REDIS_CLUSTER_NODES); throws an Error that says what is wrong. */
export function parseRedisTarget(url: string | null, clusterNodes: string | null = null): RedisTarget | null {
  if (clusterNodes) {
    if (url) throw new Error("set REDIS_URL or REDIS_CLUSTER_NODES, not both");
    return { kind: "cluster", nodes: hostList(clusterNodes), tls: false };
  }
  if (!url) return null;
  if (/^rediss?:\/\//.test(url)) return { kind: "single", url };
  const m = MULTI_HOST.exec(url);
  if (!m) throw new Error("REDIS_URL must be redis://, rediss://, redis+cluster://host:port,... or redis+sentinel://host:port,.../name");
  const [, scheme, kind, user, pass, hosts, path] = m;
  const auth: Auth = { tls: scheme === "rediss", username: dec(user), password: dec(pass) };
  if (kind === "cluster") {
    if (path) throw new Error("REDIS_URL: a cluster has no database number or name");
    return { kind: "cluster", nodes: hostList(hosts!), ...auth };
  }
  if (!path) throw new Error("REDIS_URL: redis+sentinel:// needs the primary's name, e.g. redis+sentinel://host:26379/mymaster");
  return { kind: "sentinel", sentinels: hostList(hosts!), name: decodeURIComponent(path), ...auth };
}

const dec = (s: string | undefined) => (s ? decodeURIComponent(s) : undefined);

function hostList(list: string): HostPort[] {
  const nodes = list.split(",").map((h) => h.trim()).filter(Boolean);
  if (nodes.length === 0) throw new Error("no Redis nodes given");
  return nodes.map((n) => {
    const m = /^\[?([^\][\s]+?)\]?:(\d{1,5})$/.exec(n);
    if (!m || Number(m[2]) > 65535) throw new Error(`"${n}" is not host:port`);
    return { host: m[1]!, port: Number(m[2]) };
  });
}

/** host:port of what start-up tries to reach, for messages (never the credentials). */
export function describeTarget(target: RedisTarget): string {
  const list = (nodes: HostPort[]) => nodes.map((n) => (n.host.includes(":") ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`)).join(",");
  if (target.kind === "cluster") return `cluster nodes ${list(target.nodes)}`;
  if (target.kind === "sentinel") return `sentinels ${list(target.sentinels)} (primary "${target.name}")`;
  try {
    const u = new URL(target.url);
    return `${u.hostname || "127.0.0.1"}:${u.port || 6379}`;
  } catch {
    return "REDIS_URL's address";
  }
}

/** How every connection behaves (see RedisEphemeralStore for why). */
export interface ConnectOptions {
  keyPrefix?: string;
  enableAutoPipelining?: boolean;
}

// No offline queue: while Redis is unreachable commands fail at once (sign-in is refused, not
// queued); ioredis reconnects in the background and recovers by itself.
const COMMON: RedisOptions = { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: (n: number) => Math.min(n * 100, 2000) };

export function connectRedis(target: RedisTarget, opts: ConnectOptions = {}): RedisClient {
  const { keyPrefix, enableAutoPipelining = false } = opts;
  if (target.kind === "single") return new Redis(target.url, { ...COMMON, keyPrefix, enableAutoPipelining });
  const auth = { username: target.username, password: target.password, tls: target.tls ? {} : undefined };
  if (target.kind === "sentinel") {
    return new Redis({ ...COMMON, ...auth, sentinelPassword: target.password, sentinels: target.sentinels, name: target.name, keyPrefix, enableAutoPipelining });
  }
  return new Cluster(target.nodes, {
    keyPrefix,
    // Not on a cluster: an auto-pipelined batch holds several slots of one node, and after a
    // failover ioredis neither redirects such a batch nor refreshes its slot map, so every batch
    // fails with MOVED until a restart (redis/ioredis#2075, reproduced by the failover test).
    // Commands issued together still go out at once, one write each.
    enableAutoPipelining: false,
    enableOfflineQueue: false,
    clusterRetryStrategy: (n: number) => Math.min(n * 100, 2000),
    // After a primary fails, its replica takes over: ioredis follows MOVED answers and refreshes
    // the slot map; commands meanwhile fail (retryably) rather than wait.
    retryDelayOnFailover: 200,
    redisOptions: { ...auth, maxRetriesPerRequest: 1 },
  });
}
