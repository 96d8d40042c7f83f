import fs from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { DataDirLock } from './data-dir.lock.js';
import { PGlitePool } from './pglite.pool.js';
import type { Database } from './schema.js';
import { recordingPool } from './transaction-client.js';

const INT8_OID = 20;
const NUMERIC_OID = 1700;
/** Calendar dates stay 'YYYY-MM-DD' strings: a Date would shift them by the process's time zone. */
const DATE_OID = 1082;

/** A Kysely handle plus what it takes to close it cleanly. */
export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  /** `pglite` for the embedded engine, `postgres` for a server. */
  readonly engine: 'pglite' | 'postgres';
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A `postgres://` URL; when absent an embedded PGlite database is used. */
  readonly databaseUrl?: string | undefined;
  /** Directory for the embedded database; `undefined` keeps it in memory (tests). */
  readonly pgliteDir?: string | undefined;
  /** Extra `pg` pool settings, e.g. a search_path for isolated test schemas. */
  readonly pgOptions?: pg.PoolConfig;
}

/**
 * Opens the database: `pg` when a URL is given, otherwise PGlite under `pgliteDir`.
 * Both return int8 and numeric as JS numbers so rows look the same on either engine.
 * @throws when the PGlite directory is already held by another live process.
 */
export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: 10,
      types: {
        getTypeParser: ((oid: number, format?: string) => {
          if (oid === INT8_OID || oid === NUMERIC_OID) return (v: string) => Number(v);
          if (oid === DATE_OID) return (v: string) => v;
          return pg.types.getTypeParser(oid, format as 'text');
        }) as typeof pg.types.getTypeParser,
      },
      ...options.pgOptions,
    });
    // An idle client that loses its server must not crash the process.
    pool.on('error', () => undefined);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: recordingPool(pool) }) });
    return { db, engine: 'postgres', close: () => db.destroy() };
  }

  let lock: DataDirLock | undefined;
  if (options.pgliteDir) {
    fs.mkdirSync(options.pgliteDir, { recursive: true });
    lock = DataDirLock.acquire(path.join(options.pgliteDir, '..', 'riskwatch.lock'));
  }
  try {
    // Loaded only for the embedded engine: a process on a PostgreSQL server does not need it.
    const { PGlite } = await import('@electric-sql/pglite');
    const pglite = await PGlite.create(options.pgliteDir, {
      parsers: { [INT8_OID]: Number, [NUMERIC_OID]: Number, [DATE_OID]: (v: string) => v },
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new PGlitePool(pglite) }) });
    return {
      db,
      engine: 'pglite',
      close: async () => {
        await db.destroy();
        lock?.release();
      },
    };
  } catch (error) {
    lock?.release();
    throw error;
  }
}
