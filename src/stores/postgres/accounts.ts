// AccountStore on PostgreSQL/PGlite. Lookups go through the normalised `*_key` columns.
import { loginKey, newAccountId, type Account, type AccountStore, type NewAccount } from "../../core/accounts/account.js";
import type { Queryable } from "./database.js";

interface Row {
  id: string;
  username: string;
  email: string | null;
  email_verified: boolean;
  full_name: string;
  password_hash: string;
  permissions: string[];
  totp_secret: string | null;
  deactivated: boolean;
  created_at: Date;
}

const COLUMNS =
  "id, username, email, email_verified, full_name, password_hash, permissions, totp_secret, deactivated, created_at";

export class PostgresAccountStore implements AccountStore {
  constructor(private readonly db: Queryable) {}

  async findByLogin(key: string): Promise<Account | null> {
    const rows = await this.db.query<Row>(
      `SELECT ${COLUMNS} FROM accounts WHERE username_key = $1 OR email_key = $1
       ORDER BY (username_key = $1) DESC LIMIT 1`,
      [key],
    );
    return rows[0] ? toAccount(rows[0]) : null;
  }

  async findById(id: string): Promise<Account | null> {
    const rows = await this.db.query<Row>(`SELECT ${COLUMNS} FROM accounts WHERE id = $1`, [id]);
    return rows[0] ? toAccount(rows[0]) : null;
  }

  async upsert(a: NewAccount): Promise<Account> {
    const rows = await this.db.query<Row>(
      `INSERT INTO accounts (id, username, username_key, email, email_key, email_verified, full_name,
                             password_hash, permissions, totp_secret, deactivated)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (id) DO UPDATE SET
         username = EXCLUDED.username, username_key = EXCLUDED.username_key,
         email = EXCLUDED.email, email_key = EXCLUDED.email_key, email_verified = EXCLUDED.email_verified,
         full_name = EXCLUDED.full_name, password_hash = EXCLUDED.password_hash,
         permissions = EXCLUDED.permissions, totp_secret = EXCLUDED.totp_secret,
         deactivated = EXCLUDED.deactivated, updated_at = now()
       RETURNING ${COLUMNS}`,
      [
        a.id ?? newAccountId(),
        a.username,
        loginKey(a.username),
        a.email,
        a.email === null ? null : loginKey(a.email),
        a.emailVerified ?? false,
        a.fullName ?? "",
        a.passwordHash,
        a.permissions ?? [],
        a.totpSecret ?? null,
        a.deactivated ?? false,
      ],
    );
    return toAccount(rows[0]!);
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.db.query("UPDATE accounts SET password_hash = $2, updated_at = now() WHERE id = $1", [id, passwordHash]);
  }

  async setTotpSecret(id: string, secret: string | null): Promise<void> {
    await this.db.query("UPDATE accounts SET totp_secret = $2, updated_at = now() WHERE id = $1", [id, secret]);
  }
}

function toAccount(r: Row): Account {
  return {
    id: r.id,
    username: r.username,
    email: r.email,
    emailVerified: r.email_verified,
    fullName: r.full_name,
    passwordHash: r.password_hash,
    permissions: r.permissions,
    totpSecret: r.totp_secret,
    deactivated: r.deactivated,
    createdAt: new Date(r.created_at),
  };
}
