// RevocationStore on PostgreSQL/PGlite: each account's last revocation stamp, so a flushed or
// replaced Redis does not bring revoked sessions and access tokens back.
import type { Revocation, RevocationStore } from "../../core/sessions/revocations.js";
import type { Database } from "./database.js";

export class PostgresRevocationStore implements RevocationStore {
  constructor(private readonly db: Database) {}

  async save(accountId: string, r: Revocation): Promise<void> {
    // GREATEST: of two revocations racing, the later stamp stays.
    await this.db.query(
      `INSERT INTO revocations (account_id, revoked_at_ms, except_id) VALUES ($1, $2, $3)
       ON CONFLICT (account_id) DO UPDATE SET
         except_id = CASE WHEN EXCLUDED.revoked_at_ms >= revocations.revoked_at_ms THEN EXCLUDED.except_id ELSE revocations.except_id END,
         revoked_at_ms = GREATEST(revocations.revoked_at_ms, EXCLUDED.revoked_at_ms)`,
      [accountId, r.at, r.except ?? null],
    );
  }

  async load(accountId: string): Promise<Revocation | null> {
    const [row] = await this.db.query<{ revoked_at_ms: string | number; except_id: string | null }>(
      "SELECT revoked_at_ms, except_id FROM revocations WHERE account_id = $1",
      [accountId],
    );
    return row ? { at: Number(row.revoked_at_ms), except: row.except_id ?? undefined } : null;
  }
}
