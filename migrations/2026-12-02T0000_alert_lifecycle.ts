import { type Kysely, sql } from 'kysely';

/**
 * The alert lifecycle beyond the rule engine's states: acknowledgement, assignment, closing by a
 * supervisor, silences, and notes on events whose notification was suppressed.
 *
 * - `alerts.revision`: counts every change of the row (an evaluation's transition or a person's action),
 *   so an action sent against what the caller saw answers 409 when the alert changed meanwhile.
 * - `alerts.acknowledged_*`, `assignee`, `closed_*`: the current acknowledgement, assignee and closing;
 *   every change is also an `alert_events` row, which holds the full history.
 * - `silences`: time-boxed mutes of notifications, by rule, institution, institution type, county and
 *   severity (each optional, at least one); expired by hand (`expired_*`) or by reaching `ends_at`, and
 *   never deleted, so the history keeps saying why an alert sent no e-mail.
 * - `alert_events.comment`, `assignee`: what a person wrote or assigned (acknowledged, assigned, closed,
 *   commented events); `suppressed`: for a transition that sent no e-mail, the silences and inhibiting
 *   alerts that held it back (`{"silenced_by":[…],"inhibited_by":[…]}`). The rule engine's event kinds
 *   are unchanged.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const statements = [
    sql`ALTER TABLE alerts ADD COLUMN revision integer NOT NULL DEFAULT 1 CHECK (revision >= 1)`,
    sql`ALTER TABLE alerts ADD COLUMN acknowledged_at timestamptz`,
    sql`ALTER TABLE alerts ADD COLUMN acknowledged_by text`,
    sql`ALTER TABLE alerts ADD COLUMN acknowledgement_comment text`,
    sql`ALTER TABLE alerts ADD COLUMN assignee text`,
    sql`ALTER TABLE alerts ADD COLUMN closed_at timestamptz`,
    sql`ALTER TABLE alerts ADD COLUMN closed_by text`,
    sql`ALTER TABLE alerts ADD COLUMN close_reason text`,
    sql`ALTER TABLE alerts ADD CONSTRAINT alerts_acknowledgement CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL))`,
    sql`ALTER TABLE alerts ADD CONSTRAINT alerts_closing CHECK (
      (closed_at IS NULL) = (closed_by IS NULL) AND (closed_at IS NULL) = (close_reason IS NULL)
      AND (closed_at IS NULL OR state = 'resolved'))`,
    // The evaluator asks, for each alert it would open, whether a supervisor closed its fingerprint.
    sql`CREATE INDEX alerts_closed ON alerts (fingerprint, id) WHERE closed_at IS NOT NULL`,
    sql`ALTER TABLE alert_events ADD COLUMN comment text`,
    sql`ALTER TABLE alert_events ADD COLUMN assignee text`,
    sql`ALTER TABLE alert_events ADD COLUMN suppressed jsonb`,
    sql`CREATE INDEX alert_events_suppressed ON alert_events (id) WHERE suppressed IS NOT NULL`,
    sql`CREATE TABLE silences (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      rule_id text,
      institution_code text,
      institution_type text,
      county text,
      severity text CHECK (severity IN ('info', 'warning', 'critical')),
      starts_at timestamptz NOT NULL,
      ends_at timestamptz NOT NULL,
      created_by text NOT NULL,
      reason text NOT NULL CHECK (length(btrim(reason)) > 0),
      created_at timestamptz NOT NULL DEFAULT now(),
      expired_at timestamptz,
      expired_by text,
      CHECK (ends_at > starts_at),
      CHECK (num_nonnulls(rule_id, institution_code, institution_type, county, severity) >= 1),
      CHECK ((expired_at IS NULL) = (expired_by IS NULL))
    )`,
    sql`CREATE INDEX silences_open ON silences (ends_at) WHERE expired_at IS NULL`,
  ];
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const statements = [
    sql`DROP TABLE silences`,
    sql`DROP INDEX alert_events_suppressed`,
    sql`ALTER TABLE alert_events DROP COLUMN suppressed`,
    sql`ALTER TABLE alert_events DROP COLUMN assignee`,
    sql`ALTER TABLE alert_events DROP COLUMN comment`,
    sql`DROP INDEX alerts_closed`,
    sql`ALTER TABLE alerts DROP CONSTRAINT alerts_closing`,
    sql`ALTER TABLE alerts DROP CONSTRAINT alerts_acknowledgement`,
    ...['close_reason', 'closed_by', 'closed_at', 'assignee', 'acknowledgement_comment', 'acknowledged_by']
      .concat(['acknowledged_at', 'revision'])
      .map((c) => sql`ALTER TABLE alerts DROP COLUMN ${sql.ref(c)}`),
  ];
  for (const statement of statements) await statement.execute(db);
}
