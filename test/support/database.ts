import { randomBytes } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { type DatabaseHandle, openDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrator.js';
import { type Database, TABLES } from '../../src/db/schema.js';

/** A migrated database for one test file: PostgreSQL when TEST_DATABASE_URL is set, else in-memory PGlite. */
export interface TestDatabase extends DatabaseHandle {
  /** Empties every table between tests. */
  truncate(): Promise<void>;
}

/**
 * Opens a fresh, migrated database. On PostgreSQL each call gets its own schema, so test files can
 * run in parallel against one server; the schema is dropped on close.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const url = process.env.TEST_DATABASE_URL;
  let handle: DatabaseHandle;
  let dropSchema = async () => {};
  if (url) {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    handle = await openDatabase({
      databaseUrl: url,
      pgOptions: { options: `-c search_path=${schema}`, max: 4 },
    });
    dropSchema = async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    };
  } else {
    handle = await openDatabase({});
  }
  await migrateToLatest(handle.db as unknown as Kysely<unknown>);
  return {
    ...handle,
    db: handle.db as Kysely<Database>,
    truncate: async () => {
      await sql`TRUNCATE ${sql.join(TABLES.map((t) => sql.table(t)))} RESTART IDENTITY CASCADE`.execute(
        handle.db,
      );
    },
    close: async () => {
      await handle.close();
      await dropSchema();
    },
  };
}

/** The number of rows in a table. */
export async function countRows(db: Kysely<Database>, table: keyof Database): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select(({ fn }) => fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
