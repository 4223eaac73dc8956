// Schema migrations, applied in order at start-up under an advisory lock so that
// instances starting together migrate once. Append new steps; never edit applied ones.
import type { Database } from "./database.js";

const MIGRATIONS: string[] = [
  `CREATE TABLE accounts (
     id text PRIMARY KEY,
     username text NOT NULL,
     username_key text NOT NULL UNIQUE,
     email text,
     email_key text UNIQUE,
     email_verified boolean NOT NULL DEFAULT false,
     full_name text NOT NULL DEFAULT '',
     password_hash text NOT NULL,
     permissions text[] NOT NULL DEFAULT '{}',
     totp_secret text,
     deactivated boolean NOT NULL DEFAULT false,
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE TABLE signing_keys (
     kid text PRIMARY KEY,
     purpose text NOT NULL,
     alg text NOT NULL,
     public_jwk jsonb NOT NULL,
     private_jwk jsonb NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now(),
     retired_at timestamptz
   );
   CREATE INDEX signing_keys_purpose ON signing_keys (purpose) WHERE retired_at IS NULL;`,

  // Apps (tenants); accounts belong to one, and are unique per app. Existing accounts join
  // the default app that the Yeep-style API serves.
  `CREATE TABLE apps (
     id text PRIMARY KEY,
     name text NOT NULL,
     status text NOT NULL CHECK (status IN ('active', 'suspended', 'deleted')),
     app_token_hash text UNIQUE,
     two_factor text NOT NULL CHECK (two_factor IN ('none', 'phone', 'google')),
     realm_app_id text NOT NULL,
     jwt_expiration_hours integer NOT NULL DEFAULT 24,
     metadata_fields jsonb NOT NULL DEFAULT '[]',
     password_prehash text NOT NULL DEFAULT 'none' CHECK (password_prehash IN ('none', 'md5')),
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now()
   );
   ALTER TABLE accounts ADD COLUMN app_id text NOT NULL DEFAULT 'default';
   ALTER TABLE accounts ALTER COLUMN app_id DROP DEFAULT;
   ALTER TABLE accounts ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}';
   ALTER TABLE accounts ADD COLUMN phone text;
   ALTER TABLE accounts ADD COLUMN phone_verified boolean NOT NULL DEFAULT false;
   ALTER TABLE accounts ADD COLUMN phone_two_factor boolean NOT NULL DEFAULT false;
   ALTER TABLE accounts DROP CONSTRAINT accounts_username_key_key;
   ALTER TABLE accounts DROP CONSTRAINT accounts_email_key_key;
   CREATE UNIQUE INDEX accounts_app_username ON accounts (app_id, username_key);
   CREATE UNIQUE INDEX accounts_app_email ON accounts (app_id, email_key);`,
  // Revocation stamps (ms since the epoch) outlive Redis; see core/sessions/revocations.ts.
  `CREATE TABLE revocations (
     account_id text PRIMARY KEY,
     revoked_at_ms bigint NOT NULL,
     except_id text
   );`,
  // Remember-this-device period per app (core/devices/remembered-devices.ts). A migration cannot tell
  // which row is DEFAULT_APP, so existing apps keep the feature off until an operator turns it on.
  `ALTER TABLE apps ADD COLUMN remember_device_days integer NOT NULL DEFAULT 0
     CHECK (remember_device_days BETWEEN 0 AND 365);`,
  // Passkeys (core/passkeys): a credential id belongs to one account; the public key is not secret.
  `CREATE TABLE webauthn_credentials (
     id text PRIMARY KEY,
     account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
     credential_id text NOT NULL UNIQUE,
     public_key text NOT NULL,
     counter bigint NOT NULL DEFAULT 0,
     transports text[] NOT NULL DEFAULT '{}',
     aaguid text NOT NULL,
     name text NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now(),
     last_used_at timestamptz
   );
   CREATE INDEX webauthn_credentials_account ON webauthn_credentials (account_id);`,
  // Recovery codes (core/otp/recovery-codes.ts): HMACs only; a spent code keeps its row, with used_at.
  `CREATE TABLE recovery_codes (
     account_id text NOT NULL,
     code_hash text NOT NULL,
     used_at timestamptz,
     created_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (account_id, code_hash)
   );`,
  // The sign-in's lookup by login (stores/postgres/accounts.ts) as a function: PL/pgSQL keeps its
  // plan for the connection, where the same statement sent as text is planned each time (on PGlite
  // 0.47 -> 0.26 ms of CPU per lookup). A username match wins over an email match. With the account:
  // whether it has a passkey and how many recovery codes it has left (the second factors it offers).
  // A column added to accounts that this lookup needs means replacing the function in a new step.
  // (Each statement here ends a line with ";": the body keeps its own ";" inside a line.)
  `CREATE FUNCTION account_by_login(p_app text, p_key text) RETURNS TABLE (
     id text, app_id text, username text, email text, email_verified boolean, full_name text,
     password_hash text, permissions text[], totp_secret text, deactivated boolean, metadata jsonb,
     phone text, phone_verified boolean, phone_two_factor boolean, created_at timestamptz, has_passkey boolean,
     recovery_codes_left integer
   ) LANGUAGE plpgsql STABLE AS $body$
   #variable_conflict use_column
   BEGIN
     RETURN QUERY SELECT a.id, a.app_id, a.username, a.email, a.email_verified, a.full_name, a.password_hash,
       a.permissions, a.totp_secret, a.deactivated, a.metadata, a.phone, a.phone_verified, a.phone_two_factor,
       a.created_at, EXISTS (SELECT 1 FROM webauthn_credentials w WHERE w.account_id = a.id),
       (SELECT count(*)::integer FROM recovery_codes r WHERE r.account_id = a.id AND r.used_at IS NULL)
     FROM (SELECT 0 AS by_email, x.* FROM accounts x WHERE x.app_id = p_app AND x.username_key = p_key
           UNION ALL
           SELECT 1, x.* FROM accounts x WHERE x.app_id = p_app AND x.email_key = p_key
           ORDER BY by_email LIMIT 1) a; IF NOT FOUND THEN
       -- No such account: the same two probes (with the login as the id; their answer is unused), so an
       -- unknown login costs what a known one does.
       PERFORM EXISTS (SELECT 1 FROM webauthn_credentials w WHERE w.account_id = p_key),
         (SELECT count(*) FROM recovery_codes r WHERE r.account_id = p_key AND r.used_at IS NULL); END IF; END
   $body$;`,
];

export async function migrate(db: Database): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.migrations'))");
    await tx.query(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
    );
    const [row] = await tx.query<{ v: number | null }>("SELECT max(version) AS v FROM schema_migrations");
    const applied = row?.v ?? 0;
    for (let v = applied + 1; v <= MIGRATIONS.length; v++) {
      for (const statement of MIGRATIONS[v - 1]!.split(/;\s*$/m).filter((s) => s.trim())) {
        await tx.query(statement);
      }
      await tx.query("INSERT INTO schema_migrations (version) VALUES ($1)", [v]);
    }
    return MIGRATIONS.length - applied;
  });
}
