import { type Kysely, sql } from 'kysely';

/**
 * Notification routing (docs/notifications.md): alert events wait per route group in
 * `notification_items` until the group's `group_wait` has passed, then one outbox row (a digest) takes
 * them all. `digest_id` is set once, under the row lock of the flush that wrote the digest, so an item
 * is in at most one e-mail; the digest's idempotency key is unique in the outbox.
 *
 * The outbox also keeps the recipients a relay refused while accepting the others, so that a partial
 * delivery is visible through the API rather than buried in `last_error`; job runs record when they
 * finished, so an operator (and the replica test) can count what ran.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const statements = [
    sql`CREATE TABLE notification_items (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      route text NOT NULL,
      group_key text NOT NULL,
      event_id bigint NOT NULL REFERENCES alert_events(id),
      alert_id bigint NOT NULL REFERENCES alerts(id),
      institution_code text,
      severity text NOT NULL,
      kind text NOT NULL,
      recipients jsonb NOT NULL,
      lang text NOT NULL,
      payload jsonb NOT NULL,
      event_at timestamptz NOT NULL,
      due_at timestamptz NOT NULL,
      digest_id bigint REFERENCES notification_outbox(id),
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (route, event_id)
    )`,
    sql`CREATE INDEX notification_items_waiting ON notification_items (route, group_key, due_at) WHERE digest_id IS NULL`,
    sql`CREATE INDEX notification_items_digest ON notification_items (digest_id)`,
    sql`ALTER TABLE notification_outbox ADD COLUMN refused_recipients jsonb NOT NULL DEFAULT '[]'::jsonb`,
    sql`CREATE INDEX notification_outbox_failed ON notification_outbox (created_at DESC) WHERE status = 'failed'`,
    sql`ALTER TABLE job_runs ADD COLUMN finished_at timestamptz`,
  ];
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE job_runs DROP COLUMN finished_at`.execute(db);
  await sql`DROP INDEX notification_outbox_failed`.execute(db);
  await sql`ALTER TABLE notification_outbox DROP COLUMN refused_recipients`.execute(db);
  await sql`DROP TABLE notification_items`.execute(db);
}
