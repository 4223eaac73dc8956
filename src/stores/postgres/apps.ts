// AppStore on PostgreSQL/PGlite. Only the hash of an app token is stored.
import { appTokenHash, type App, type AppStore, type NewApp } from "../../core/apps/app.js";
import type { Queryable } from "./database.js";

interface Row {
  id: string;
  name: string;
  status: App["status"];
  two_factor: App["twoFactor"];
  realm_app_id: string;
  jwt_expiration_hours: number;
  metadata_fields: App["metadataFields"];
  password_prehash: App["passwordPrehash"];
  app_token_hash: string | null;
  remember_device_days: number;
}

const COLUMNS =
  "id, name, status, two_factor, realm_app_id, jwt_expiration_hours, metadata_fields, password_prehash, app_token_hash, remember_device_days";

export class PostgresAppStore implements AppStore {
  constructor(private readonly db: Queryable) {}

  async findById(id: string): Promise<App | null> {
    const rows = await this.db.query<Row>(`SELECT ${COLUMNS} FROM apps WHERE id = $1`, [id]);
    return rows[0] ? toApp(rows[0]) : null;
  }

  async findByTokenHash(tokenHash: string): Promise<App | null> {
    const rows = await this.db.query<Row>(`SELECT ${COLUMNS} FROM apps WHERE app_token_hash = $1`, [tokenHash]);
    return rows[0] ? toApp(rows[0]) : null;
  }

  async list(): Promise<App[]> {
    return (await this.db.query<Row>(`SELECT ${COLUMNS} FROM apps ORDER BY id`)).map(toApp);
  }

  async upsert(app: NewApp): Promise<App> {
    const rows = await this.db.query<Row>(
      `INSERT INTO apps (id, name, status, app_token_hash, two_factor, realm_app_id, jwt_expiration_hours,
                         metadata_fields, password_prehash, remember_device_days)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (id) DO UPDATE SET
         name = EXCLUDED.name, status = EXCLUDED.status,
         app_token_hash = COALESCE(EXCLUDED.app_token_hash, apps.app_token_hash),
         two_factor = EXCLUDED.two_factor, realm_app_id = EXCLUDED.realm_app_id,
         jwt_expiration_hours = EXCLUDED.jwt_expiration_hours, metadata_fields = EXCLUDED.metadata_fields,
         password_prehash = EXCLUDED.password_prehash, remember_device_days = EXCLUDED.remember_device_days,
         updated_at = now()
       RETURNING ${COLUMNS}`,
      [
        app.id,
        app.name,
        app.status,
        // No token, no Cosync-style access (the default app is reached by the Yeep-style API only).
        app.appToken ? appTokenHash(app.appToken) : null,
        app.twoFactor,
        app.realmAppId,
        app.jwtExpirationHours,
        JSON.stringify(app.metadataFields),
        app.passwordPrehash,
        app.rememberDeviceDays,
      ],
    );
    return toApp(rows[0]!);
  }
}

function toApp(r: Row): App {
  return {
    id: r.id,
    name: r.name,
    status: r.status,
    twoFactor: r.two_factor,
    realmAppId: r.realm_app_id,
    jwtExpirationHours: r.jwt_expiration_hours,
    metadataFields: r.metadata_fields,
    passwordPrehash: r.password_prehash,
    tokenHash: r.app_token_hash,
    rememberDeviceDays: r.remember_device_days,
  };
}
