// One query interface over the real PostgreSQL server (pg pool, when DATABASE_URL is set)
// and the embedded PGlite (a data folder, for running with nothing installed).
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { lockDataDir } from "./data-dir-lock.js";
import { createDatabaseImage, createInFolder, hasDatabase, PGLITE_START_PARAMS } from "./pglite-create.js";

export interface Queryable {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

export interface Database extends Queryable {
  /** Runs `fn` in one transaction; it is rolled back when `fn` throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; without it, PGlite in `dataDir`. */
  url?: string;
  /** PGlite folder, or "memory://" for a throw-away database. */
  dataDir: string;
  /** Schema holding the tables (created when missing); tests use one per run. */
  schema: string;
  /** Told of every failed query (for metrics). */
  onError?: (err: unknown) => void;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (!SCHEMA_NAME.test(opts.schema)) throw new Error(`invalid schema name: ${opts.schema}`);
  const raw = opts.url ? await openPool(opts.url, opts.schema) : await openPGlite(opts.dataDir, opts.schema);
  await raw.query(`CREATE SCHEMA IF NOT EXISTS ${opts.schema}`);
  const onError = opts.onError;
  if (!onError) return raw;
  const observed = <T>(p: Promise<T>) => p.catch((err: unknown) => (onError(err), Promise.reject(err)));
  return {
    query: (text, params) => observed(raw.query(text, params)),
    transaction: (fn) => observed(raw.transaction(fn)),
    close: () => raw.close(),
  };
}

/** How long start-up waits for PostgreSQL before saying it cannot reach it. */
export const CONNECT_TIMEOUT_MS = 3000;

async function openPool(url: string, schema: string): Promise<Database> {
  await probe(url);
  const pool = new pg.Pool({ connectionString: url, options: `-c search_path=${schema}`, max: 10 });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  const run = async <T>(q: pg.Pool | pg.PoolClient, text: string, params?: unknown[]) =>
    (await q.query(text, params)).rows as T[];
  return {
    query: (text, params) => run(pool, text, params),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await fn({ query: (text, params) => run(client, text, params) });
        await client.query("COMMIT");
        return result;
      } catch (err) {
        await client.query("ROLLBACK").catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

// One connection first, bounded in time, so that a wrong or unreachable server stops start-up with
// a message naming DATABASE_URL (the pool itself would wait for the operating system's timeout).
async function probe(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on("error", () => {}); // a failure is reported by connect() below
  let where = "the server";
  try {
    const { hostname, port } = new URL(url);
    where = `${decodeURIComponent(hostname) || "localhost"}:${port || 5432}`;
  } catch {
    // pg parses more forms than URL does; the message then says "the server"
  }
  try {
    await client.connect();
    await client.query("SELECT 1");
  } catch (err) {
    const e = err as Error & { code?: string };
    const network: Record<string, string> = { ECONNREFUSED: "connection refused", ENOTFOUND: "host not found", EAI_AGAIN: "host not found", EHOSTUNREACH: "host unreachable", ENETUNREACH: "network unreachable", ECONNRESET: "connection reset" };
    const why = e.code && network[e.code] ? network[e.code] : /timeout/i.test(e.message) ? "no answer" : null;
    throw new Error(
      why
        ? `DATABASE_URL: cannot reach PostgreSQL at ${where} within ${CONNECT_TIMEOUT_MS / 1000} s (${why}); start PostgreSQL or correct DATABASE_URL, or unset it to use the embedded database in DATA_DIR`
        : `DATABASE_URL: PostgreSQL at ${where} refused the connection: ${e.message}; correct the user, password or database name in DATABASE_URL`,
    );
  } finally {
    await client.end().catch(() => {});
  }
}

async function openPGlite(dataDir: string, schema: string): Promise<Database> {
  // "memory://" (and PGlite's other non-folder forms) hold nothing another process could share.
  const folder = dataDir.startsWith("file://") ? dataDir.slice(7) : dataDir && !dataDir.startsWith("memory://") ? dataDir : null;
  const lock = folder ? await lockDataDir(folder) : null;
  try {
    // Creating a database (initdb) leaves ~500 MiB in the process for good: it is done in a child
    // process that exits, and this one opens the result (pglite-create.ts).
    let image: Blob | undefined;
    if (folder) {
      if (!(await hasDatabase(folder))) await createInFolder(folder);
    } else if (!dataDir || dataDir.startsWith("memory://")) image = await createDatabaseImage();
    const lite = await PGlite.create(dataDir, { startParams: PGLITE_START_PARAMS, loadDataDir: image });
    // One connection, so the search_path set here holds for every later query.
    await lite.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}; SET search_path TO ${schema}`);
    return {
      query: async (text, params) => (await lite.query(text, params)).rows as never,
      transaction: (fn) => lite.transaction((tx) => fn({ query: async (text, params) => (await tx.query(text, params)).rows as never })),
      close: () => lite.close().finally(() => lock?.release()),
    };
  } catch (err) {
    await lock?.release();
    throw err;
  }
}
