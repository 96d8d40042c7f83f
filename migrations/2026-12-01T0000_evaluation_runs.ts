import { type Kysely, sql } from 'kysely';

/**
 * A record of every completed scheduled evaluation of all institutions, and an index to find the
 * current submissions of a period.
 *
 * A scheduled evaluation reads only a window of recent periods when the alerts in force were all
 * computed by the rules and catalog it runs with (docs/architecture.md, "Evaluation at scale"); the
 * `evaluation_key` of the last completed run says whether they were. One row per scheduled run, not
 * per evaluation (uploads record nothing here): every 15 minutes that is 35,000 rows a year, pruned
 * with the job runs. `mode` is `window` or `deep` (the whole history, after the rules or the catalog
 * changed).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const statements = [
    sql`CREATE TABLE evaluation_runs (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      mode text NOT NULL CHECK (mode IN ('window', 'deep')),
      evaluation_key text NOT NULL,
      rules_hash text NOT NULL,
      evaluated_at timestamptz NOT NULL,
      started_at timestamptz NOT NULL,
      finished_at timestamptz NOT NULL,
      institutions integer NOT NULL,
      transitions integer NOT NULL
    )`,
    sql`CREATE INDEX evaluation_runs_finished ON evaluation_runs (finished_at DESC)`,
    sql`CREATE INDEX submissions_current_period ON submissions (period) WHERE is_current`,
  ];
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX submissions_current_period`.execute(db);
  await sql`DROP TABLE evaluation_runs`.execute(db);
}
