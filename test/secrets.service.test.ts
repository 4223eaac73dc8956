// Secrets at rest across restarts of the real service on one database: started without a master
// key (a loud warning, values in clear), then with key A (everything sealed), then with key B and
// SIGNIN_MASTER_KEY_PREVIOUS=A (everything re-sealed under B), TOTP sign-in working throughout; no
// TOTP secret in Redis in clear; a wrong or missing key stops start-up naming SIGNIN_MASTER_KEY; and
// NODE_ENV=production without a key does not start.
import { spawn } from "node:child_process";
import { Redis } from "ioredis";
import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Sealer } from "../src/core/secrets/sealer.js";
import { openDatabase, type Database } from "../src/stores/postgres/database.js";
import { COYOTE, dropSharedSchema, post, ROADRUNNER, startTestService, TOTP_SECRET, uniqueName, type TestService } from "./support/service.js";

const KEY_A = "service-master-key-A-".padEnd(44, "a");
const KEY_B = "service-master-key-B-".padEnd(44, "b");

/** Every value under the service's Redis prefix, whatever its type. */
async function redisValues(prefix: string): Promise<string> {
  const redis = new Redis(inject("redisUrl"));
  try {
    const out: string[] = [];
    for (const key of await redis.keys(`${prefix}*`)) {
      const type = await redis.type(key);
      if (type === "string") out.push((await redis.get(key)) ?? "");
      else if (type === "list") out.push(...(await redis.lrange(key, 0, -1)));
      else if (type === "hash") out.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === "set") out.push(...(await redis.smembers(key)));
      else if (type === "zset") out.push(...(await redis.zrange(key, 0, -1)));
      out.push(key);
    }
    return out.join("\n");
  } finally {
    redis.disconnect();
  }
}

describe("secrets at rest across restarts", () => {
  const schema = uniqueName("secrets");
  let db: Database;
  beforeAll(async () => {
    db = await openDatabase({ url: process.env.DATABASE_URL, dataDir: "memory://", schema });
  });
  afterAll(async () => {
    await db?.close();
    await dropSharedSchema(schema);
  });

  const start = (env: Record<string, string>, users: unknown[] = []) => startTestService({ DATABASE_SCHEMA: schema, ...env }, users, [], db);
  const stored = async () => ({
    totp: (await db.query<{ id: string; totp_secret: string | null }>("SELECT id, totp_secret FROM accounts WHERE totp_secret IS NOT NULL ORDER BY id")).map((r) => r.totp_secret!),
    keys: (await db.query<{ private_jwk: unknown }>("SELECT private_jwk FROM signing_keys")).map((r) => r.private_jwk),
  });
  const expectAllSealedWith = async (masterKey: string) => {
    const prefix = `sealed.v1.${new Sealer(masterKey).keyId}.`;
    const { totp, keys } = await stored();
    expect(totp.length).toBeGreaterThan(0);
    expect(keys.length).toBeGreaterThan(1);
    for (const v of [...totp, ...keys]) {
      expect(typeof v).toBe("string");
      expect((v as string).startsWith(prefix)).toBe(true);
      expect(v).not.toContain(TOTP_SECRET);
    }
  };
  const signInWithTotp = async (svc: TestService) => {
    const token = await generate({ secret: TOTP_SECRET, epoch: Math.floor(svc.clock.now() / 1000) });
    const res = await post(`${svc.url}/api/session.setCookie`, {
      user: ROADRUNNER.email,
      password: ROADRUNNER.password,
      secondaryAuthFactor: { type: "TOTP", token },
    });
    return res.json;
  };
  const warnings = (svc: TestService) => svc.logs.filter((l) => l.level === "warn" && /SIGNIN_MASTER_KEY/.test(String(l.msg)));

  it("no key (warned, in clear) -> key A (sealed) -> key B + previous A (re-sealed) -> B alone; TOTP sign-in throughout", async () => {
    const dev = await start({}, [COYOTE, ROADRUNNER]);
    try {
      expect(warnings(dev).map((l) => l.msg)).toEqual([expect.stringMatching(/^SIGNIN_MASTER_KEY is not set: TOTP secrets and private signing keys are stored IN CLEAR/)]);
      expect((await stored()).totp).toEqual([TOTP_SECRET]);
      expect((await signInWithTotp(dev)).ok).toBe(true);
    } finally {
      await dev.close();
    }

    const a = await start({ SIGNIN_MASTER_KEY: KEY_A });
    try {
      expect(warnings(a)).toEqual([]);
      await expectAllSealedWith(KEY_A);
      expect((await signInWithTotp(a)).ok).toBe(true);
    } finally {
      await a.close();
    }

    const b = await start({ SIGNIN_MASTER_KEY: KEY_B, SIGNIN_MASTER_KEY_PREVIOUS: KEY_A });
    try {
      await expectAllSealedWith(KEY_B);
      expect((await signInWithTotp(b)).ok).toBe(true);
      expect(b.logs.some((l) => /remove SIGNIN_MASTER_KEY_PREVIOUS/.test(String(l.msg)))).toBe(true);
    } finally {
      await b.close();
    }

    const onlyB = await start({ SIGNIN_MASTER_KEY: KEY_B });
    try {
      expect((await signInWithTotp(onlyB)).ok).toBe(true);
      // A TOTP secret never waits in Redis in clear: not the pending one of an enrollment, not an active one.
      const cookie = (await post(`${onlyB.url}/api/session.setCookie`, { user: COYOTE.username, password: COYOTE.password })).headers.get("set-cookie")!.split(";")[0]!;
      const enrolled = (await post(`${onlyB.url}/api/totp.enroll`, {}, { cookie })).json;
      expect(enrolled.ok).toBe(true);
      const values = await redisValues(onlyB.config.redisKeyPrefix);
      expect(values).toContain("totp:pending:"); // the pending enrollment is there ...
      expect(values).not.toContain(enrolled.totp.secret); // ... sealed
      expect(values).not.toContain(TOTP_SECRET);
      const code = await generate({ secret: enrolled.totp.secret, epoch: Math.floor(onlyB.clock.now() / 1000) });
      expect((await post(`${onlyB.url}/api/totp.activate`, { secret: enrolled.totp.secret, token: code }, { cookie })).json.ok).toBe(true);
      expect((await stored()).totp).toHaveLength(2);
      await expectAllSealedWith(KEY_B);
    } finally {
      await onlyB.close();
    }

    await expect(start({ SIGNIN_MASTER_KEY: KEY_A })).rejects.toThrow(/^SIGNIN_MASTER_KEY: wrong key: the database holds secrets sealed with master key id/);
    await expect(start({})).rejects.toThrow(/^SIGNIN_MASTER_KEY is not set, but the database holds secrets sealed with a master key/);
  });

  it("NODE_ENV=production without SIGNIN_MASTER_KEY: the process exits 1 naming it", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env: { ...process.env, NODE_ENV: "production", SIGNIN_MASTER_KEY: "", PORT: "0", DATA_DIR: "memory://", LOG_LEVEL: "silent", REDIS_URL: "", DATABASE_URL: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const guard = setTimeout(() => child.kill("SIGKILL"), 60_000); // a service that starts anyway fails the test
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    clearTimeout(guard);
    expect(output).toMatch(/^Configuration error: SIGNIN_MASTER_KEY is required when NODE_ENV=production/m);
    expect(code).toBe(1);
  }, 90_000);
});
