// AccountStore on PostgreSQL/PGlite. Lookups go through the normalised `*_key` columns.
// TOTP secrets are sealed with the master key (core/secrets/sealer.ts), bound to the account id.
import {
  LoginTaken,
  loginKey,
  newAccountId,
  type Account,
  type AccountPatch,
  type AccountStore,
  type NewAccount,
  type PhoneState,
} from "../../core/accounts/account.js";
import type { Sealer } from "../../core/secrets/sealer.js";
import type { Queryable } from "./database.js";

interface Row {
  id: string;
  app_id: string;
  username: string;
  email: string | null;
  email_verified: boolean;
  full_name: string;
  password_hash: string;
  permissions: string[];
  totp_secret: string | null;
  deactivated: boolean;
  metadata: Record<string, unknown>;
  phone: string | null;
  phone_verified: boolean;
  phone_two_factor: boolean;
  created_at: Date;
  has_passkey?: boolean;
  recovery_codes_left?: number;
}

const COLUMNS = `id, app_id, username, email, email_verified, full_name, password_hash, permissions, totp_secret,
  deactivated, metadata, phone, phone_verified, phone_two_factor, created_at`;

const CODES_LEFT = "(SELECT count(*)::integer FROM recovery_codes r WHERE r.account_id = accounts.id AND r.used_at IS NULL) AS recovery_codes_left";

/** The associated data of an account's sealed TOTP secret: it opens in this row only. */
const totpAd = (accountId: string) => `accounts.totp_secret:${accountId}`;

export class PostgresAccountStore implements AccountStore {
  constructor(
    private readonly db: Queryable,
    private readonly sealer: Sealer,
  ) {}

  async findByLogin(appId: string, key: string): Promise<Account | null> {
    // One statement whose plan the database keeps (migration 7): the account, whether it has a
    // passkey and its recovery codes left (the second factors the sign-in offers).
    const rows = await this.db.query<Row>(
      "SELECT * FROM account_by_login($1, $2)",
      [appId, key],
    );
    return rows[0] ? this.toAccount(rows[0]) : null;
  }

  async findById(id: string): Promise<Account | null> {
    // With its recovery codes left (user.info shows them): cached with the account (stores/cached-accounts.ts).
    const rows = await this.db.query<Row>(`SELECT ${COLUMNS}, ${CODES_LEFT} FROM accounts WHERE id = $1`, [id]);
    return rows[0] ? this.toAccount(rows[0]) : null;
  }

  async upsert(a: NewAccount): Promise<Account> {
    const id = a.id ?? newAccountId();
    const rows = await this.db.query<Row>(
      `INSERT INTO accounts (id, username, username_key, email, email_key, email_verified, full_name,
                             password_hash, permissions, totp_secret, deactivated,
                             app_id, metadata, phone, phone_verified, phone_two_factor)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
       ON CONFLICT (id) DO UPDATE SET
         app_id = EXCLUDED.app_id, metadata = EXCLUDED.metadata, phone = EXCLUDED.phone,
         phone_verified = EXCLUDED.phone_verified, phone_two_factor = EXCLUDED.phone_two_factor,
         username = EXCLUDED.username, username_key = EXCLUDED.username_key,
         email = EXCLUDED.email, email_key = EXCLUDED.email_key, email_verified = EXCLUDED.email_verified,
         full_name = EXCLUDED.full_name, password_hash = EXCLUDED.password_hash,
         permissions = EXCLUDED.permissions, totp_secret = EXCLUDED.totp_secret,
         deactivated = EXCLUDED.deactivated, updated_at = now()
       RETURNING ${COLUMNS}`,
      [
        id,
        a.username,
        loginKey(a.username),
        a.email,
        a.email === null ? null : loginKey(a.email),
        a.emailVerified ?? false,
        a.fullName ?? "",
        a.passwordHash,
        a.permissions ?? [],
        this.sealedTotp(id, a.totpSecret ?? null),
        a.deactivated ?? false,
        a.appId,
        JSON.stringify(a.metadata ?? {}),
        a.phone ?? null,
        a.phoneVerified ?? false,
        a.phoneTwoFactor ?? false,
      ],
    ).catch(loginTaken);
    return this.toAccount(rows[0]!);
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.db.query("UPDATE accounts SET password_hash = $2, updated_at = now() WHERE id = $1", [id, passwordHash]);
  }

  async setTotpSecret(id: string, secret: string | null): Promise<void> {
    await this.db.query("UPDATE accounts SET totp_secret = $2, updated_at = now() WHERE id = $1", [id, this.sealedTotp(id, secret)]);
  }

  async update(id: string, patch: AccountPatch): Promise<Account | null> {
    const sets: string[] = [];
    const params: unknown[] = [id];
    const set = (column: string, value: unknown) => {
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    };
    if (patch.email !== undefined) {
      set("email", patch.email);
      set("email_key", patch.email === null ? null : loginKey(patch.email));
    }
    if (patch.fullName !== undefined) set("full_name", patch.fullName);
    if (patch.deactivated !== undefined) set("deactivated", patch.deactivated);
    if (patch.permissions !== undefined) set("permissions", patch.permissions);
    if (patch.metadata !== undefined) set("metadata", JSON.stringify(patch.metadata));
    const rows = await this.db.query<Row>(
      `UPDATE accounts SET ${[...sets, "updated_at = now()"].join(", ")} WHERE id = $1 RETURNING ${COLUMNS}`,
      params,
    ).catch(loginTaken);
    return rows[0] ? this.toAccount(rows[0]) : null;
  }

  async list(appId: string, afterId: string, limit: number): Promise<Account[]> {
    const rows = await this.db.query<Row>(
      `SELECT ${COLUMNS} FROM accounts WHERE app_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
      [appId, afterId, limit],
    );
    return rows.map((r) => this.toAccount(r));
  }

  async setPhone(id: string, p: PhoneState): Promise<void> {
    await this.db.query(
      "UPDATE accounts SET phone = $2, phone_verified = $3, phone_two_factor = $4, updated_at = now() WHERE id = $1",
      [id, p.phone, p.phoneVerified, p.phoneTwoFactor],
    );
  }

  /**
   * Re-seals, at start, every TOTP secret not sealed with the current master key (stored in clear
   * before one was set, or sealed with SIGNIN_MASTER_KEY_PREVIOUS); returns how many. Without a
   * master key it only looks for sealed secrets, which stop start-up (they cannot be read). A secret
   * changed meanwhile (another instance, a user) is left as it is.
   */
  async resealTotpSecrets(batch = 500): Promise<number> {
    const prefix = this.sealer.currentPrefix;
    let after = "";
    let count = 0;
    for (;;) {
      const rows = await this.db.query<{ id: string; totp_secret: string }>(
        `SELECT id, totp_secret FROM accounts WHERE id > $1 AND totp_secret IS NOT NULL
           AND ${prefix ? "NOT" : ""} starts_with(totp_secret, $2) ORDER BY id LIMIT ${batch}`,
        [after, prefix ?? "sealed."],
      );
      if (rows.length === 0) return count;
      const sealed = rows.map((r) => this.sealer.seal(this.sealer.open(r.totp_secret, totpAd(r.id)), totpAd(r.id)));
      const updated = await this.db.query(
        `UPDATE accounts AS a SET totp_secret = v.sealed FROM unnest($1::text[], $2::text[], $3::text[]) AS v(id, old, sealed)
         WHERE a.id = v.id AND a.totp_secret = v.old RETURNING a.id`,
        [rows.map((r) => r.id), rows.map((r) => r.totp_secret), sealed],
      );
      count += updated.length;
      after = rows[rows.length - 1]!.id;
    }
  }

  private sealedTotp(id: string, secret: string | null): string | null {
    return secret === null ? null : this.sealer.seal(secret, totpAd(id));
  }

  private toAccount(r: Row): Account {
    return toAccount(r, r.totp_secret === null ? null : this.sealer.open(r.totp_secret, totpAd(r.id)));
  }
}

function toAccount(r: Row, totpSecret: string | null): Account {
  return {
    id: r.id,
    appId: r.app_id,
    username: r.username,
    email: r.email,
    emailVerified: r.email_verified,
    fullName: r.full_name,
    passwordHash: r.password_hash,
    permissions: r.permissions,
    totpSecret,
    deactivated: r.deactivated,
    metadata: r.metadata,
    phone: r.phone,
    phoneVerified: r.phone_verified,
    phoneTwoFactor: r.phone_two_factor,
    createdAt: new Date(r.created_at),
    ...(r.has_passkey === undefined ? {} : { hasPasskey: r.has_passkey }),
    ...(r.recovery_codes_left === undefined ? {} : { recoveryCodesLeft: r.recovery_codes_left }),
  };
}

/** A unique index refusing the username or email (per app) is the core's LoginTaken. */
function loginTaken(err: unknown): never {
  throw typeof err === "object" && err !== null && (err as { code?: string }).code === "23505" ? new LoginTaken() : err;
}
