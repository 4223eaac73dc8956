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
