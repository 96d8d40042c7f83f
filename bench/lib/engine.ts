import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { openDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrator.js';
import { PGlitePool } from '../../src/db/pglite.pool.js';
import { TABLES as APP_TABLES, type Database } from '../../src/db/schema.js';

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/** The installed PGlite package's version (its package.json is not exported, so found beside dist/). */
export function pgliteVersion(): string {
  const entry = new URL(import.meta.resolve('@electric-sql/pglite'));
  const file = path.join(path.dirname(entry.pathname), '..', 'package.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

/** The bare table of the COPY and INSERT baselines: the columns of `observations`, no key, no index. */
export const BARE_TABLE = 'bench_observations';
const BARE_COLUMNS = 'submission_id, institution_code, period, metric, value, derived';

/** The application's tables, children first, and the bare table: what `truncate` empties. */
const TABLES = [...APP_TABLES, BARE_TABLE] as const;

/** A migrated database for the benchmarks, with raw COPY access beside the Kysely handle. */
export interface BenchEngine {
  readonly name: 'PGlite' | 'PostgreSQL';
  readonly db: Kysely<Database>;
  /** The server or engine version string. */
  readonly version: string;
  /** Empties every table and restarts identities. */
  truncate(): Promise<void>;
  /** `COPY bench_observations FROM STDIN (FORMAT csv)` with the given CSV text (no header). */
  copyIntoBare(csv: string): Promise<void>;
  close(): Promise<void>;
}

async function prepare(db: Kysely<Database>): Promise<string> {
  await migrateToLatest(db as unknown as Kysely<unknown>);
  await sql`CREATE TABLE ${sql.table(BARE_TABLE)} (
    submission_id bigint NOT NULL,
    institution_code text NOT NULL,
    period text NOT NULL,
    metric text NOT NULL,
    value numeric NOT NULL,
    derived boolean NOT NULL DEFAULT false
  )`.execute(db);
  const { rows } = await sql<{ v: string }>`SELECT current_setting('server_version') AS v`.execute(db);
  return rows[0]?.v ?? '?';
}

function truncator(db: Kysely<Database>) {
  return async () => {
    await sql`TRUNCATE ${sql.join(TABLES.map((t) => sql.table(t)))} RESTART IDENTITY CASCADE`.execute(db);
  };
}

/**
 * PGlite as the service opens it (same type parsers, same one-connection pool), on disk in a temporary
 * folder like `./data/pg`, or in memory like the tests when `inMemory` is set. Opened here rather than
 * through `openDatabase` so that COPY can hand PGlite its `/dev/blob`.
 */
export async function openPglite(inMemory = false): Promise<BenchEngine> {
  const dir = inMemory ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'riskwatch-bench-'));
  const removeDir = () => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  };
  let db: Kysely<Database> | undefined;
  let pglite: PGlite;
  let version: string;
  try {
    pglite = await PGlite.create(dir ? path.join(dir, 'pg') : undefined, {
      parsers: { [INT8_OID]: Number, [NUMERIC_OID]: Number },
    });
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new PGlitePool(pglite) }) });
    version = await prepare(db);
  } catch (error) {
    await db?.destroy();
    removeDir();
    throw error;
  }
  const opened = db;
  return {
    name: 'PGlite',
    db: opened,
    version: `PGlite ${pgliteVersion()} (PostgreSQL ${version})`,
    truncate: truncator(opened),
    copyIntoBare: async (csv) => {
      await pglite.query(`COPY ${BARE_TABLE} (${BARE_COLUMNS}) FROM '/dev/blob' WITH (FORMAT csv)`, [], {
        blob: new Blob([csv]),
      });
    },
    close: async () => {
      await opened.destroy();
      removeDir();
    },
  };
}

/**
 * PostgreSQL through the service's own `openDatabase` (a `pg` pool), in a database of its own that is
 * dropped on close; COPY goes through `pg-copy-streams` on a separate client. A database rather than
 * a schema, so that nothing the benchmark creates can meet anyone else's tables and one
 * `DROP DATABASE … WITH (FORCE)` removes it all.
 */
export async function openPostgres(url: string): Promise<BenchEngine> {
  const name = `riskwatch_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const target = new URL(url);
  target.pathname = `/${name}`;
  const dropDatabase = async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  };
  let handle: Awaited<ReturnType<typeof openDatabase>> | undefined;
  const copier = new pg.Client({ connectionString: target.toString() });
  try {
    handle = await openDatabase({ databaseUrl: target.toString() });
    await copier.connect();
    const version = await prepare(handle.db);
    const { db } = handle;
    return {
      name: 'PostgreSQL',
      db,
      version: `PostgreSQL ${version}`,
      truncate: truncator(db),
      copyIntoBare: async (csv) => {
        const stream = copier.query(
          copyFrom(`COPY ${BARE_TABLE} (${BARE_COLUMNS}) FROM STDIN WITH (FORMAT csv)`),
        );
        await pipeline(Readable.from([csv]), stream);
      },
      close: async () => {
        await copier.end();
        await db.destroy();
        await dropDatabase();
      },
    };
  } catch (error) {
    await copier.end().catch(() => undefined);
    await handle?.close();
    await dropDatabase();
    throw error;
  }
}
