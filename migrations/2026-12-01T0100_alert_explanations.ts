import { type Kysely, sql } from 'kysely';

/**
 * Alerts explain themselves and regional alerts name their region.
 *
 * - `alerts.explanation` (jsonb): why the alert stands as of its latest transition — the quantity
 *   judged, value, threshold and margin, the levels and override in force, the run with its periods and
 *   submissions, and the kind's own facts (peer statistics, a projection's fit, a region's sums); the
 *   `AlertExplanation` type in src/alerts/alert.types.ts. A scheduled evaluation in a window reads the
 *   run's earlier periods from it.
 * - `alert_events.explanation` (jsonb): the same at each transition, so the history says why each
 *   step happened (a resolution: what cleared it).
 * - `alerts.region` (`county:晋江市`, `type:village_bank`, `city:*`): the region of a regional alert
 *   (`institution_code` null), for filters and e-mails.
 * Null for rows recorded before this migration.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const statements = [
    sql`ALTER TABLE alerts ADD COLUMN explanation jsonb`,
    sql`ALTER TABLE alerts ADD COLUMN region text CHECK (region ~ '^(county|type|city):.+$')`,
    sql`ALTER TABLE alert_events ADD COLUMN explanation jsonb`,
    sql`CREATE INDEX alerts_region ON alerts (region) WHERE region IS NOT NULL`,
  ];
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const statements = [
    sql`DROP INDEX alerts_region`,
    sql`ALTER TABLE alert_events DROP COLUMN explanation`,
    sql`ALTER TABLE alerts DROP COLUMN region`,
    sql`ALTER TABLE alerts DROP COLUMN explanation`,
  ];
  for (const statement of statements) await statement.execute(db);
}
