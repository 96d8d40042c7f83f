import { type Kysely, Migrator } from 'kysely';
import { migrations } from '../../migrations/index.js';

/**
 * Applies every pending migration from `migrations/`, the same files on PGlite and PostgreSQL.
 * @returns the names of the migrations applied now.
 * @throws the first migration error; that migration's transaction is rolled back.
 */
export async function migrateToLatest(db: Kysely<unknown>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
