// Configuration: defaults, validation with messages naming the variable, and the configuration
// table (docs/configuration.md, linked from the README) kept in step with the variables the service reads.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ENV_VARS, loadConfig } from "../src/config.js";

describe("config", () => {
  it("has working defaults for the embedded mode", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ host: "127.0.0.1", port: 8080, databaseUrl: null, redis: null, clusterWorkers: 1, dataDir: "./data", tls: null });
    expect(c.argon2).toStrictEqual({ memoryKiB: 19456, iterations: 2, parallelism: 1 });
  });

  it.each([
    [{ PORT: "http" }, /PORT must be a whole number/],
    [{ PORT: "70000" }, /PORT must be a whole number from 0 to 65535/],
    [{ ARGON2_MEMORY_KIB: "1024" }, /ARGON2_MEMORY_KIB must be a whole number from 19456/],
    [{ COOKIE_SECURE: "yes" }, /COOKIE_SECURE must be true or false/],
    [{ TLS_CERT: "/x.pem" }, /TLS_CERT and TLS_KEY must be set together/],
    [{ DATABASE_URL: "mysql://x" }, /DATABASE_URL must start with postgres/],
    [{ REDIS_URL: "localhost:6379" }, /REDIS_URL must be redis:\/\//],
    [{ REDIS_URL: "redis+cluster://a:1,b" }, /"b" is not host:port/],
    [{ REDIS_URL: "redis+sentinel://a:26379" }, /needs the primary's name/],
    [{ REDIS_URL: "redis://a:1", REDIS_CLUSTER_NODES: "a:1" }, /not both/],
    [{ CLUSTER_WORKERS: "2", REDIS_URL: "redis://a:1" }, /CLUSTER_WORKERS above 1 needs DATABASE_URL and REDIS_URL/],
    [{ CLUSTER_WORKERS: "many" }, /CLUSTER_WORKERS must be a whole number/],
    [{ DATABASE_SCHEMA: "Robert'); DROP" }, /DATABASE_SCHEMA must be a lowercase SQL identifier/],
    [{ LOG_LEVEL: "loud" }, /LOG_LEVEL must be one of/],
  ])("refuses %o", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it("reads one Redis, a cluster (URL or node list) or a Sentinel-watched primary", () => {
    expect(loadConfig({ REDIS_URL: "rediss://:pw@r.example:6380/2" }).redis).toStrictEqual({ kind: "single", url: "rediss://:pw@r.example:6380/2" });
    expect(loadConfig({ REDIS_URL: "rediss+cluster://app:s%40cret@10.0.0.1:7000,[::1]:7001" }).redis).toStrictEqual({
      kind: "cluster",
      nodes: [{ host: "10.0.0.1", port: 7000 }, { host: "::1", port: 7001 }],
      tls: true,
      username: "app",
      password: "s@cret",
    });
    expect(loadConfig({ REDIS_CLUSTER_NODES: "a:7000, b:7001" }).redis).toMatchObject({ kind: "cluster", nodes: [{ host: "a", port: 7000 }, { host: "b", port: 7001 }] });
    expect(loadConfig({ REDIS_URL: "redis+sentinel://s1:26379,s2:26379/mymaster" }).redis).toMatchObject({ kind: "sentinel", name: "mymaster", sentinels: [{ host: "s1", port: 26379 }, { host: "s2", port: 26379 }] });
  });

  it("divides the CPUs among the workers for hashing unless HASH_CONCURRENCY says otherwise", () => {
    const shared = { DATABASE_URL: "postgres://db/x", REDIS_URL: "redis://r:6379" };
    const cpus = loadConfig({}).hashConcurrency;
    expect(loadConfig({ ...shared, CLUSTER_WORKERS: "auto" })).toMatchObject({ clusterWorkers: cpus, hashConcurrency: 1 });
    expect(loadConfig({ ...shared, CLUSTER_WORKERS: "2", HASH_CONCURRENCY: "3" })).toMatchObject({ clusterWorkers: 2, hashConcurrency: 3 });
  });

  it("docs/configuration.md's table lists every variable with its default, and no other", () => {
    const root = join(import.meta.dirname, "..");
    const doc = readFileSync(join(root, "docs", "configuration.md"), "utf8");
    for (const [name, fallback] of ENV_VARS) {
      expect(doc).toContain(`| \`${name}\` | ${fallback ? `\`${fallback}\`` : "(unset)"} |`);
    }
    const rows = [...doc.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(rows.sort()).toStrictEqual(ENV_VARS.map(([name]) => name).sort());
    expect(readFileSync(join(root, "README.md"), "utf8")).toContain("(docs/configuration.md)");
  });
});
