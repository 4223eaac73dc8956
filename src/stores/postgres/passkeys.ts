// PasskeyStore on PostgreSQL/PGlite (table webauthn_credentials).
import type { CounterUpdate, NewPasskey, Passkey, PasskeyStore } from "../../core/passkeys/passkey.js";
import type { Database } from "./database.js";

interface Row {
  id: string;
  account_id: string;
  credential_id: string;
  public_key: string;
  counter: string | number;
  transports: string[];
  aaguid: string;
  name: string;
  created_at: Date | string;
  last_used_at: Date | string | null;
}

const COLUMNS = "id, account_id, credential_id, public_key, counter, transports, aaguid, name, created_at, last_used_at";

const toPasskey = (r: Row): Passkey => ({
  id: r.id,
  accountId: r.account_id,
  credentialId: r.credential_id,
  publicKey: new Uint8Array(Buffer.from(r.public_key, "base64url")),
  counter: Number(r.counter),
  transports: r.transports ?? [],
  aaguid: r.aaguid,
  name: r.name,
  createdAt: new Date(r.created_at),
  lastUsedAt: r.last_used_at === null ? null : new Date(r.last_used_at),
});

export class PostgresPasskeyStore implements PasskeyStore {
  constructor(private readonly db: Database) {}

  async list(accountId: string): Promise<Passkey[]> {
    const rows = await this.db.query<Row>(`SELECT ${COLUMNS} FROM webauthn_credentials WHERE account_id = $1 ORDER BY created_at, id`, [accountId]);
    return rows.map(toPasskey);
  }

  async findByCredentialId(credentialId: string): Promise<Passkey | null> {
    const [row] = await this.db.query<Row>(`SELECT ${COLUMNS} FROM webauthn_credentials WHERE credential_id = $1`, [credentialId]);
    return row ? toPasskey(row) : null;
  }

  async add(p: NewPasskey): Promise<boolean> {
    const rows = await this.db.query(
      `INSERT INTO webauthn_credentials (id, account_id, credential_id, public_key, counter, transports, aaguid, name, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (credential_id) DO NOTHING RETURNING id`,
      [p.id, p.accountId, p.credentialId, Buffer.from(p.publicKey).toString("base64url"), p.counter, p.transports, p.aaguid, p.name, p.createdAt],
    );
    return rows.length === 1;
  }

  async rename(accountId: string, id: string, name: string): Promise<boolean> {
    const rows = await this.db.query("UPDATE webauthn_credentials SET name = $3 WHERE account_id = $1 AND id = $2 RETURNING id", [accountId, id, name]);
    return rows.length === 1;
  }

  async remove(accountId: string, id: string): Promise<boolean> {
    const rows = await this.db.query("DELETE FROM webauthn_credentials WHERE account_id = $1 AND id = $2 RETURNING id", [accountId, id]);
    return rows.length === 1;
  }

  async removeAll(accountId: string): Promise<number> {
    return (await this.db.query("DELETE FROM webauthn_credentials WHERE account_id = $1 RETURNING id", [accountId])).length;
  }

  async used(id: string, counter: number, at: Date): Promise<CounterUpdate> {
    // One statement: the row is locked while the condition is checked, so of two uses of one value only one passes.
    const rows = await this.db.query(
      `UPDATE webauthn_credentials SET counter = $2, last_used_at = $3
        WHERE id = $1 AND (counter < $2 OR (counter = 0 AND $2 = 0)) RETURNING id`,
      [id, counter, at],
    );
    if (rows.length === 1) return "saved";
    const [row] = await this.db.query("SELECT 1 FROM webauthn_credentials WHERE id = $1", [id]);
    return row ? "not_increasing" : "gone";
  }
}
