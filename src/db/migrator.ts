import { type Kysely, Migrator, sql } from 'kysely';
import { migrations } from '../../migrations/index.js';

/**
 * Applies every pending migration from `migrations/`, the same files on PGlite and PostgreSQL.
 * @returns the names of the migrations applied now.
 * @throws the first migration error; that migration's transaction is rolled back.
 */
export async function migrateToLatest(db: Kysely<unknown>): Promise<string[]> {
  // Kysely looks for its bookkeeping tables by name across schemas; naming the current schema keeps
  // two deployments (or test schemas) in one database from seeing each other's.
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableSchema: rows[0]?.schema ?? 'public',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
