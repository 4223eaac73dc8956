// KeyStore on PostgreSQL/PGlite: signing keys survive restarts and are shared by instances.
// Private keys are sealed with the master key (core/secrets/sealer.ts), bound to their kid.
import type { JWK } from "jose";
import type { LegacySealed, Sealer } from "../../core/secrets/sealer.js";
import type { KeyStore, StoredKey } from "../../core/tokens/key-ring.js";
import type { Database, Queryable } from "./database.js";

/** private_jwk holds a sealed.v1 string, the envelope before it, or (no master key) the JWK itself. */
type PrivateColumn = string | LegacySealed | JWK;

interface Row {
  kid: string;
  alg: string;
  public_jwk: JWK;
  private_jwk: PrivateColumn;
  created_at: Date;
}

/** The associated data of a sealed private key: it opens in this row only. */
const keyAd = (kid: string) => `signing_keys.private_jwk:${kid}`;

const isLegacy = (v: PrivateColumn): v is LegacySealed => typeof v === "object" && (v as LegacySealed).enc === "A256GCM";

export class PostgresKeyStore implements KeyStore {
  constructor(
    private readonly db: Database,
    private readonly sealer: Sealer,
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
        privateJwk: this.open(r.kid, r.private_jwk),
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

  /**
   * Re-seals, at start, every private key (retired ones too) not sealed with the current master
   * key: stored in clear before one was set, in the envelope before sealed.v1, or sealed with
   * SIGNIN_MASTER_KEY_PREVIOUS; returns how many. Without a master key, a sealed key stops start-up.
   */
  async reseal(): Promise<number> {
    const rows = await this.db.query<{ kid: string; private_jwk: PrivateColumn }>("SELECT kid, private_jwk FROM signing_keys ORDER BY kid");
    let count = 0;
    for (const r of rows) {
      if (this.isCurrent(r.private_jwk)) continue;
      const column = this.column(r.kid, this.open(r.kid, r.private_jwk));
      // Compare-and-set: a row another instance re-sealed meanwhile is left as it is.
      const updated = await this.db.query(
        "UPDATE signing_keys SET private_jwk = $2::jsonb WHERE kid = $1 AND private_jwk = $3::jsonb RETURNING kid",
        [r.kid, JSON.stringify(column), JSON.stringify(r.private_jwk)],
      );
      count += updated.length;
    }
    return count;
  }

  private isCurrent(v: PrivateColumn): boolean {
    return typeof v === "string" ? this.sealer.isCurrent(v) : !this.sealer.sealing && !isLegacy(v);
  }

  private open(kid: string, v: PrivateColumn): JWK {
    if (typeof v === "string") return JSON.parse(this.sealer.open(v, keyAd(kid))) as JWK;
    if (isLegacy(v)) return JSON.parse(this.sealer.openLegacy(v, `signing key ${kid}`)) as JWK;
    return v;
  }

  /** The JWK as stored: sealed with the master key, or in clear (as a JSON object) without one. */
  private column(kid: string, jwk: JWK): PrivateColumn {
    return this.sealer.sealing ? this.sealer.seal(JSON.stringify(jwk), keyAd(kid)) : jwk;
  }

  private async insert(tx: Queryable, purpose: string, k: StoredKey): Promise<void> {
    await tx.query(
      "INSERT INTO signing_keys (kid, purpose, alg, public_jwk, private_jwk, created_at) VALUES ($1, $2, $3, $4, $5, clock_timestamp())",
      [k.kid, purpose, k.alg, JSON.stringify(k.publicJwk), JSON.stringify(this.column(k.kid, k.privateJwk))],
    );
  }
}
