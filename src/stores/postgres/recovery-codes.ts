// RecoveryCodeStore on PostgreSQL/PGlite: one row per code (its HMAC), spent by setting used_at.
import type { RecoveryCodeStore } from "../../core/otp/recovery-codes.js";
import type { Database } from "./database.js";

export class PostgresRecoveryCodeStore implements RecoveryCodeStore {
  constructor(private readonly db: Database) {}

  async replace(accountId: string, hashes: string[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query("DELETE FROM recovery_codes WHERE account_id = $1", [accountId]);
      await tx.query("INSERT INTO recovery_codes (account_id, code_hash) SELECT $1, unnest($2::text[])", [accountId, hashes]);
    });
  }

  async use(accountId: string, hash: string): Promise<number | null> {
    // The row lock makes a concurrent use of the same code wait, then find used_at set: one wins.
    // Both counts read the statement's snapshot, taken before this update.
    const [row] = await this.db.query<{ spent: string | number; unused: string | number }>(
      `WITH spent AS (
         UPDATE recovery_codes SET used_at = now()
         WHERE account_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING 1)
       SELECT (SELECT count(*) FROM spent) AS spent,
              (SELECT count(*) FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL) AS unused`,
      [accountId, hash],
    );
    return Number(row?.spent) === 1 ? Math.max(0, Number(row!.unused) - 1) : null;
  }

  async left(accountId: string): Promise<number> {
    const [row] = await this.db.query<{ n: string | number }>("SELECT count(*) AS n FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL", [accountId]);
    return Number(row?.n ?? 0);
  }

  async deleteAll(accountId: string): Promise<void> {
    await this.db.query("DELETE FROM recovery_codes WHERE account_id = $1", [accountId]);
  }
}
