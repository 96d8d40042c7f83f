import { type Kysely, sql } from 'kysely';

/**
 * Observations keep pointing at their submission, checked once per statement instead of once per row.
 *
 * The foreign key `observations.submission_id → submissions.id` ran one `SELECT … FOR KEY SHARE` per
 * inserted row: two thirds of the time of a bulk `COPY` into `observations` on PostgreSQL 15 (600,000
 * rows: 5.0–8.1 s with the key, 2.8 s without it, 3.4 s with the check below; docs/benchmarks.md §5).
 * In its place a statement-level trigger reads the statement's new rows (a transition table) and refuses
 * the statement when one names a submission that does not exist, or one of another institution or
 * period — a check the key never made. The key's other half, that a referenced submission cannot go,
 * becomes a rule that holds anyway: submissions are never deleted (earlier versions stay readable), and
 * a delete or a change of id is refused. Errors carry the key's SQLSTATE, 23503.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const statements = [
    sql`ALTER TABLE observations DROP CONSTRAINT observations_submission_id_fkey`,
    sql`CREATE FUNCTION observations_check_submission() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        bad record;
      BEGIN
        SELECT n.submission_id, n.institution_code, n.period INTO bad
          FROM (SELECT DISTINCT submission_id, institution_code, period FROM new_rows) AS n
          LEFT JOIN submissions AS s ON s.id = n.submission_id
         WHERE s.id IS NULL OR s.institution_code <> n.institution_code OR s.period <> n.period
         LIMIT 1;
        IF FOUND THEN
          RAISE EXCEPTION 'observations of % % name submission %, which does not exist or is not theirs',
            bad.institution_code, bad.period, bad.submission_id
            USING ERRCODE = 'foreign_key_violation', TABLE = 'observations';
        END IF;
        RETURN NULL;
      END $$`,
    sql`CREATE TRIGGER observations_submission_on_insert AFTER INSERT ON observations
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION observations_check_submission()`,
    sql`CREATE TRIGGER observations_submission_on_update AFTER UPDATE ON observations
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION observations_check_submission()`,
    sql`CREATE FUNCTION submissions_keep() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'submission % of % % cannot be deleted or renumbered: submissions are kept as filed',
          OLD.id, OLD.institution_code, OLD.period
          USING ERRCODE = 'foreign_key_violation', TABLE = 'submissions';
      END $$`,
    sql`CREATE TRIGGER submissions_keep BEFORE DELETE OR UPDATE OF id ON submissions
      FOR EACH ROW EXECUTE FUNCTION submissions_keep()`,
  ];
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const statements = [
    sql`DROP TRIGGER submissions_keep ON submissions`,
    sql`DROP FUNCTION submissions_keep()`,
    sql`DROP TRIGGER observations_submission_on_update ON observations`,
    sql`DROP TRIGGER observations_submission_on_insert ON observations`,
    sql`DROP FUNCTION observations_check_submission()`,
    sql`ALTER TABLE observations ADD CONSTRAINT observations_submission_id_fkey
      FOREIGN KEY (submission_id) REFERENCES submissions(id)`,
  ];
  for (const statement of statements) await statement.execute(db);
}
