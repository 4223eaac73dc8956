// SIGNIN_BOOTSTRAP: accounts upserted at start-up, idempotently; a bad file stops start-up
// with a message that names the problem.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { startService } from "../src/service.js";
import { openDatabase } from "../src/stores/postgres/database.js";
import { bootstrapFile, COYOTE, post, startTestService, testEnv, uniqueName, dropSharedSchema } from "./support/service.js";

describe("bootstrap", () => {
  it.each([
    ["not JSON", "{users:", /not valid JSON/],
    ["no users array", { accounts: [] }, /"users" array/],
    ["missing password", { users: [{ username: "a" }] }, /users\[0\]: "password" is required/],
    ["bad id", { users: [{ id: "123", username: "a", password: "p" }] }, /users\[0\]: "id" must be 24/],
    ["bad TOTP secret", { users: [{ username: "a", password: "p", totpSecret: "not base32!" }] }, /"totpSecret" must be base32/],
  ])("a file with %s stops start-up with a clear message", async (_name, doc, message) => {
    const file = typeof doc === "string" ? bootstrapFile(null).replace(/bootstrap\.json$/, "bad.json") : bootstrapFile(doc);
    if (typeof doc === "string") (await import("node:fs")).writeFileSync(file, doc);
    await expect(startService(loadConfig(testEnv({ SIGNIN_BOOTSTRAP: file })))).rejects.toThrow(message);
  });

  it("a missing file stops start-up naming the file", async () => {
    await expect(startService(loadConfig(testEnv({ SIGNIN_BOOTSTRAP: "/nonexistent/users.json" })))).rejects.toThrow(
      /SIGNIN_BOOTSTRAP: cannot read \/nonexistent\/users.json/,
    );
  });

  it("is idempotent: a second start with the same file keeps one account, its hash and an enrolled factor", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "signin-data-"));
    const schema = uniqueName("boot");
    const env = { DATA_DIR: dataDir, DATABASE_SCHEMA: schema };
    // The same database the service uses: the PGlite folder, or DATABASE_URL's server.
    const open = () => openDatabase({ url: process.env.DATABASE_URL, dataDir, schema });
    const snapshot = async () => {
      const db = await open();
      try {
        return await db.query<{ id: string; password_hash: string; totp_secret: string | null }>(
          "SELECT id, password_hash, totp_secret FROM accounts",
        );
      } finally {
        await db.close();
      }
    };
    const first = await startTestService(env, [COYOTE]);
    expect((await post(`${first.url}/api/session.setCookie`, { user: "coyote", password: COYOTE.password })).json.ok).toBe(true);
    await first.close();
    const before = await snapshot();
    expect(before).toHaveLength(1);
    // The user enrolls a factor after the bootstrap (written directly: enrollment is tested elsewhere).
    const db = await open();
    await db.query("UPDATE accounts SET totp_secret = 'JBSWY3DPEHPK3PXP'");
    await db.close();

    const second = await startTestService(env, [COYOTE]);
    await second.close();
    const after = await snapshot();
    await dropSharedSchema(schema);
    expect(after).toStrictEqual([{ ...before[0], totp_secret: "JBSWY3DPEHPK3PXP" }]);
  });

  it("the process exits non-zero with the message when started with a bad file", () => {
    const file = bootstrapFile({ users: [{ username: "x" }] });
    const out = spawnSync(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env: { ...process.env, ...testEnv({ SIGNIN_BOOTSTRAP: file }) },
      encoding: "utf8",
    });
    expect(out.status).toBe(1);
    expect(out.stderr).toMatch(/Configuration error: SIGNIN_BOOTSTRAP .*users\[0\]: "password" is required/);
  });
});
