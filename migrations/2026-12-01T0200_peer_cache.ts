import { type Kysely, sql } from 'kysely';

/**
 * What lets a process keep the peers of peer-outlier rules between uploads (src/alerts/peer.cache.ts)
 * and know, in one cheap statement, that nothing they are made of has changed since:
 *
 * - `change_epochs`, one row: `database_id`, random, so that a cache never takes one database's rows for
 *   another's (tests and benchmarks open many in one process); `institutions`, a counter every statement
 *   that writes `institutions` (a type, county or attribute changed) or rewrites `observations` (nothing
 *   does; the counter guards the cache's assumption that stored values never change) moves on. Those
 *   writes are rare administrative acts, so the one row is never contended. Uploads do not touch it: a
 *   new submission shows in the current submissions of its period, which the cache counts.
 * - `submissions_current_period` on `(period, id)`: the count and sum of the current submissions' ids of
 *   a period come from the index alone. A new version always has a larger id than the one it
 *   supersedes, and submissions are never deleted, so the pair changes whenever the set does.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const statements = [
    sql`CREATE TABLE change_epochs (
      singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
      database_id uuid NOT NULL DEFAULT gen_random_uuid(),
      institutions bigint NOT NULL DEFAULT 0
    )`,
    sql`INSERT INTO change_epochs DEFAULT VALUES`,
    sql`CREATE FUNCTION change_epochs_institutions() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE change_epochs SET institutions = institutions + 1;
        RETURN NULL;
      END $$`,
    sql`CREATE TRIGGER institutions_epoch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON institutions
      FOR EACH STATEMENT EXECUTE FUNCTION change_epochs_institutions()`,
    sql`CREATE TRIGGER observations_epoch AFTER UPDATE OR DELETE OR TRUNCATE ON observations
      FOR EACH STATEMENT EXECUTE FUNCTION change_epochs_institutions()`,
    sql`DROP INDEX submissions_current_period`,
    sql`CREATE INDEX submissions_current_period ON submissions (period, id) WHERE is_current`,
  ];
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const statements = [
    sql`DROP INDEX submissions_current_period`,
    sql`CREATE INDEX submissions_current_period ON submissions (period) WHERE is_current`,
    sql`DROP TRIGGER observations_epoch ON observations`,
    sql`DROP TRIGGER institutions_epoch ON institutions`,
    sql`DROP FUNCTION change_epochs_institutions()`,
    sql`DROP TABLE change_epochs`,
  ];
  for (const statement of statements) await statement.execute(db);
}
