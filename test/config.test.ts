// Configuration: defaults, validation with messages naming the variable, and the README's
// table kept in step with the variables the service actually reads.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ENV_VARS, loadConfig } from "../src/config.js";

describe("config", () => {
  it("has working defaults for the embedded mode", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ host: "127.0.0.1", port: 8080, databaseUrl: null, redisUrl: null, dataDir: "./data", tls: null });
    expect(c.argon2).toStrictEqual({ memoryKiB: 19456, iterations: 2, parallelism: 1 });
  });

  it.each([
    [{ PORT: "http" }, /PORT must be a whole number/],
    [{ PORT: "70000" }, /PORT must be a whole number from 0 to 65535/],
    [{ ARGON2_MEMORY_KIB: "1024" }, /ARGON2_MEMORY_KIB must be a whole number from 19456/],
    [{ COOKIE_SECURE: "yes" }, /COOKIE_SECURE must be true or false/],
    [{ TLS_CERT: "/x.pem" }, /TLS_CERT and TLS_KEY must be set together/],
    [{ DATABASE_URL: "mysql://x" }, /DATABASE_URL must start with postgres/],
    [{ REDIS_URL: "localhost:6379" }, /REDIS_URL must start with redis/],
    [{ DATABASE_SCHEMA: "Robert'); DROP" }, /DATABASE_SCHEMA must be a lowercase SQL identifier/],
    [{ LOG_LEVEL: "loud" }, /LOG_LEVEL must be one of/],
  ])("refuses %o", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it("the README's configuration table lists every variable with its default", () => {
    const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");
    for (const [name, fallback] of ENV_VARS) {
      expect(readme).toContain(`| \`${name}\` | ${fallback ? `\`${fallback}\`` : "(unset)"} |`);
    }
  });
});
