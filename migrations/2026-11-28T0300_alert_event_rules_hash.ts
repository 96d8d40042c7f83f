import { type Kysely, sql } from 'kysely';

/**
 * Each alert event names the rule set that decided it: the sha256 of the rule files in force when the
 * evaluation ran (`GET /api/v1/rules` shows the same hash). A reload between two evaluations, or two
 * replicas running different files, then shows in the history instead of being guessed at.
 *
 * A column on `alert_events` rather than a log of every evaluation: the question asked of the history is
 * "which rules made this alert fire (or resolve)?", and an evaluation that changes nothing leaves nothing
 * to explain, while the scheduled evaluation of every institution would add a row per batch every 15
 * minutes. Null for events recorded before this migration and for events no evaluation produced.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE alert_events ADD COLUMN rules_hash text CHECK (rules_hash ~ '^[0-9a-f]{64}$')`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE alert_events DROP COLUMN rules_hash`.execute(db);
}
