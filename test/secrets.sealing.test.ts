// Secrets at rest, at the store level: TOTP secrets and private signing keys are sealed with the
// master key in the database (nothing in clear in the columns), bound to their row (a value copied
// into another row does not open), re-sealed with the current key at start (from clear, from the
// envelope before sealed.v1, from SIGNIN_MASTER_KEY_PREVIOUS), and a wrong key names the setting.
import { createCipheriv, hkdfSync, randomBytes } from "node:crypto";
import { exportJWK, generateKeyPair } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { defaultApp } from "../src/core/apps/app.js";
import { SealError, Sealer } from "../src/core/secrets/sealer.js";
import { KeyRing } from "../src/core/tokens/key-ring.js";
import { PostgresAccountStore } from "../src/stores/postgres/accounts.js";
import { PostgresAppStore } from "../src/stores/postgres/apps.js";
import { openDatabase, type Database } from "../src/stores/postgres/database.js";
import { PostgresKeyStore } from "../src/stores/postgres/keys.js";
import { migrate } from "../src/stores/postgres/migrations.js";
import { TOTP_SECRET, uniqueName } from "./support/service.js";

const KEY_A = "master-key-A-".padEnd(40, "a");
const KEY_B = "master-key-B-".padEnd(40, "b");
const OTHER = "another-account-00000000";

describe("secrets at rest (stores)", () => {
  let db: Database;
  // One database for the file (opening PGlite takes seconds); each test starts from empty tables.
  beforeAll(async () => {
    db = await openDatabase({ url: process.env.DATABASE_URL, dataDir: "memory://", schema: uniqueName("sealed") });
    await migrate(db);
    await new PostgresAppStore(db).upsert(defaultApp("default"));
  });
  beforeEach(async () => {
    await db.query("DELETE FROM accounts");
    await db.query("DELETE FROM signing_keys");
  });
  afterAll(async () => {
    if (process.env.DATABASE_URL) await db.query(`DROP SCHEMA ${(await db.query<{ s: string }>("SELECT current_schema() AS s"))[0]!.s} CASCADE`);
    await db.close();
  });

  const column = async (id: string) => (await db.query<{ totp_secret: string | null }>("SELECT totp_secret FROM accounts WHERE id = $1", [id]))[0]!.totp_secret;
  const privateKeys = () => db.query<{ kid: string; private_jwk: unknown }>("SELECT kid, private_jwk FROM signing_keys ORDER BY kid");
  const newAccount = (accounts: PostgresAccountStore, id: string, totpSecret: string | null) =>
    accounts.upsert({ id, appId: "default", username: id, email: null, passwordHash: "h", totpSecret });

  it("a TOTP secret is sealed in its column, tagged with the key id, and opens only in its own row", async () => {
    const sealer = new Sealer(KEY_A);
    const accounts = new PostgresAccountStore(db, sealer);
    const a = await newAccount(accounts, "account-with-totp-000001", TOTP_SECRET);
    await newAccount(accounts, OTHER, null);
    expect(a.totpSecret).toBe(TOTP_SECRET);

    const stored = await column(a.id);
    expect(stored).not.toContain(TOTP_SECRET);
    expect(stored!.startsWith(`sealed.v1.${sealer.keyId}.`)).toBe(true);
    expect((await accounts.findById(a.id))?.totpSecret).toBe(TOTP_SECRET);

    await accounts.setTotpSecret(a.id, "JBSWY3DPEHPK3PXP");
    expect(await column(a.id)).not.toContain("JBSWY3DPEHPK3PXP");
    expect((await accounts.findById(a.id))?.totpSecret).toBe("JBSWY3DPEHPK3PXP");

    // Copied into another account's row, the sealed secret does not open (and is never read as "no factor").
    await db.query("UPDATE accounts SET totp_secret = (SELECT totp_secret FROM accounts WHERE id = $1) WHERE id = $2", [a.id, OTHER]);
    await expect(accounts.findById(OTHER)).rejects.toThrow(/SIGNIN_MASTER_KEY: the sealed value of accounts.totp_secret:another-account-00000000 does not open/);
  });

  it("a private signing key is sealed, bound to its kid; without a master key it stays a clear JWK", async () => {
    const sealer = new Sealer(KEY_A);
    const keys = new PostgresKeyStore(db, sealer);
    const ring = await KeyRing.load(keys, "session", "EdDSA");
    await ring.rotate(60_000);
    const rows = await privateKeys();
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(typeof r.private_jwk).toBe("string");
      expect(r.private_jwk as string).toMatch(new RegExp(`^sealed\\.v1\\.${sealer.keyId}\\.`));
      expect(JSON.stringify(r.private_jwk)).not.toMatch(/"d"|kty/);
    }
    // Swapping two keys' sealed columns: neither opens.
    await db.query("UPDATE signing_keys SET private_jwk = CASE kid WHEN $1 THEN $4::jsonb ELSE $3::jsonb END WHERE kid IN ($1, $2)", [rows[0]!.kid, rows[1]!.kid, JSON.stringify(rows[0]!.private_jwk), JSON.stringify(rows[1]!.private_jwk)]);
    await expect(ring.reload()).rejects.toThrow(/signing_keys.private_jwk:.* does not open: it was altered or copied from another row/);

    await db.query("DELETE FROM signing_keys");
    await KeyRing.load(new PostgresKeyStore(db, new Sealer(null)), "session", "EdDSA");
    const [row] = await db.query<{ private_jwk: Record<string, unknown> }>("SELECT private_jwk FROM signing_keys");
    expect(row!.private_jwk.d).toBeTruthy(); // development: in clear, and the start-up warning says so
  });

  it("re-sealing at start: clear values are sealed when a key is added; SIGNIN_MASTER_KEY_PREVIOUS values move to the new key", async () => {
    // Stored without a master key (development, or before one was set).
    const clearAccounts = new PostgresAccountStore(db, new Sealer(null));
    await newAccount(clearAccounts, "account-with-totp-000002", TOTP_SECRET);
    await KeyRing.load(new PostgresKeyStore(db, new Sealer(null)), "session", "EdDSA");
    expect(await column("account-with-totp-000002")).toBe(TOTP_SECRET);

    // A master key is set: everything is sealed with it.
    const a = new Sealer(KEY_A);
    expect(await new PostgresAccountStore(db, a).resealTotpSecrets()).toBe(1);
    expect(await new PostgresKeyStore(db, a).reseal()).toBe(1);
    expect(await column("account-with-totp-000002")).toMatch(new RegExp(`^sealed\\.v1\\.${a.keyId}\\.`));
    for (const r of await privateKeys()) expect(r.private_jwk as string).toMatch(new RegExp(`^sealed\\.v1\\.${a.keyId}\\.`));
    // Nothing left to do on the next start.
    expect(await new PostgresAccountStore(db, a).resealTotpSecrets()).toBe(0);
    expect(await new PostgresKeyStore(db, a).reseal()).toBe(0);

    // Rotation: B current, A previous; values sealed with A are re-sealed with B, and still open.
    const b = new Sealer(KEY_B, KEY_A);
    const accountsB = new PostgresAccountStore(db, b);
    expect(await accountsB.resealTotpSecrets()).toBe(1);
    expect(await new PostgresKeyStore(db, b).reseal()).toBe(1);
    expect(await column("account-with-totp-000002")).toMatch(new RegExp(`^sealed\\.v1\\.${b.keyId}\\.`));
    // B alone (PREVIOUS removed) reads everything.
    expect((await new PostgresAccountStore(db, new Sealer(KEY_B)).findById("account-with-totp-000002"))?.totpSecret).toBe(TOTP_SECRET);
    await KeyRing.load(new PostgresKeyStore(db, new Sealer(KEY_B)), "session", "EdDSA");

    // A alone no longer opens them: the error names the setting; without a key, it says a key is needed.
    await expect(new PostgresAccountStore(db, new Sealer(KEY_A)).resealTotpSecrets()).rejects.toThrow(/^SIGNIN_MASTER_KEY: wrong key: .*sealed with master key id/);
    await expect(new PostgresKeyStore(db, new Sealer(null)).reseal()).rejects.toThrow(/^SIGNIN_MASTER_KEY is not set, but the database holds secrets sealed/);
    await expect(new PostgresAccountStore(db, new Sealer(null)).resealTotpSecrets()).rejects.toThrow(SealError);
  });

  it("keys sealed in the format before sealed.v1 (no key id, no associated data) open and are re-sealed", async () => {
    // The previous format, as deployments wrote it: AES-256-GCM under HKDF(key, "signin", "signing-key-encryption").
    const { privateKey, publicKey } = await generateKeyPair("EdDSA", { extractable: true });
    const jwk = await exportJWK(privateKey);
    const key = Buffer.from(hkdfSync("sha256", KEY_A, "signin", "signing-key-encryption", 32));
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    const data = Buffer.concat([cipher.update(JSON.stringify(jwk), "utf8"), cipher.final()]);
    const legacy = { enc: "A256GCM", iv: iv.toString("base64url"), tag: cipher.getAuthTag().toString("base64url"), data: data.toString("base64url") };
    await db.query("INSERT INTO signing_keys (kid, purpose, alg, public_jwk, private_jwk) VALUES ('old-kid', 'session', 'EdDSA', $1, $2)", [
      JSON.stringify(await exportJWK(publicKey)),
      JSON.stringify(legacy),
    ]);
    // Readable as it is, with the key that sealed it (also as SIGNIN_MASTER_KEY_PREVIOUS) ...
    expect((await KeyRing.load(new PostgresKeyStore(db, new Sealer(KEY_A)), "session", "EdDSA")).signing().kid).toBe("old-kid");
    await expect(KeyRing.load(new PostgresKeyStore(db, new Sealer(KEY_B)), "session", "EdDSA")).rejects.toThrow(/^SIGNIN_MASTER_KEY: wrong key: signing key old-kid/);
    // ... and re-sealed at start.
    const b = new Sealer(KEY_B, KEY_A);
    expect(await new PostgresKeyStore(db, b).reseal()).toBe(1);
    const [row] = await privateKeys();
    expect(row!.private_jwk as string).toMatch(new RegExp(`^sealed\\.v1\\.${b.keyId}\\.`));
    const ring = await KeyRing.load(new PostgresKeyStore(db, new Sealer(KEY_B)), "session", "EdDSA");
    expect(ring.signing().kid).toBe("old-kid");
  });

  it("NODE_ENV=production refuses to start without SIGNIN_MASTER_KEY; SIGNIN_MASTER_KEY_PREVIOUS is checked", () => {
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/^SIGNIN_MASTER_KEY is required when NODE_ENV=production/);
    expect(loadConfig({ NODE_ENV: "production", SIGNIN_MASTER_KEY: KEY_A }).masterKey).toBe(KEY_A);
    expect(loadConfig({}).masterKey).toBeNull(); // development: allowed, with the warning at start
    expect(() => loadConfig({ SIGNIN_MASTER_KEY_PREVIOUS: KEY_A })).toThrow(/SIGNIN_MASTER_KEY_PREVIOUS needs SIGNIN_MASTER_KEY/);
    expect(() => loadConfig({ SIGNIN_MASTER_KEY: KEY_A, SIGNIN_MASTER_KEY_PREVIOUS: "short" })).toThrow(/SIGNIN_MASTER_KEY_PREVIOUS must be at least 32/);
    expect(loadConfig({ SIGNIN_MASTER_KEY: KEY_B, SIGNIN_MASTER_KEY_PREVIOUS: KEY_A }).masterKeyPrevious).toBe(KEY_A);
  });
});
