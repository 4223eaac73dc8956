// KeyStore on PostgreSQL/PGlite: signing keys survive restarts and are shared by instances.
import type { JWK } from "jose";
import type { KeyCipher, SealedJwk } from "../../core/tokens/key-cipher.js";
import type { KeyStore, StoredKey } from "../../core/tokens/key-ring.js";
import type { Database, Queryable } from "./database.js";

interface Row {
  kid: string;
  alg: string;
  public_jwk: JWK;
  private_jwk: JWK | SealedJwk;
  created_at: Date;
}

export class PostgresKeyStore implements KeyStore {
  constructor(
    private readonly db: Database,
    private readonly cipher: KeyCipher,
  ) {}

  loadOrCreate(purpose: string, generate: () => Promise<StoredKey>): Promise<StoredKey[]> {
    return this.db.transaction(async (tx) => {
      // Serialises concurrent first starts: the second one finds the first one's key.
      await tx.query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.keys.' || $1))", [purpose]);
      const select = () =>
        tx.query<Row & { retired_at: Date | null }>(
          `SELECT kid, alg, public_jwk, private_jwk, created_at, retired_at FROM signing_keys
           WHERE purpose = $1 AND (retired_at IS NULL OR retired_at > now()) ORDER BY created_at DESC`,
          [purpose],
        );
      let rows = await select();
      if (!rows.some((r) => r.retired_at === null)) {
        const k = await generate();
        await this.insert(tx, purpose, k);
        rows = await select();
      }
      return rows.map((r) => ({
        kid: r.kid,
        alg: r.alg,
        publicJwk: r.public_jwk,
        privateJwk: this.cipher.open(r.private_jwk),
        createdAt: new Date(r.created_at),
      }));
    });
  }

  rotate(purpose: string, key: StoredKey, graceMs: number): Promise<void> {
    return this.db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.keys.' || $1))", [purpose]);
      await tx.query(
        "UPDATE signing_keys SET retired_at = now() + make_interval(secs => $2) WHERE purpose = $1 AND retired_at IS NULL",
        [purpose, graceMs / 1000],
      );
      await this.insert(tx, purpose, key);
    });
  }

  private async insert(tx: Queryable, purpose: string, k: StoredKey): Promise<void> {
    await tx.query(
      "INSERT INTO signing_keys (kid, purpose, alg, public_jwk, private_jwk, created_at) VALUES ($1, $2, $3, $4, $5, clock_timestamp())",
      [k.kid, purpose, k.alg, JSON.stringify(k.publicJwk), JSON.stringify(this.cipher.seal(k.privateJwk))],
    );
  }
}
