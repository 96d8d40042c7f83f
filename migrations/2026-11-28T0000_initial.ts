import { type Kysely, sql } from 'kysely';

/**
 * The initial schema. One statement per `execute`, because PGlite refuses multi-statement strings
 * sent as prepared statements.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const statements = [
    sql`CREATE TABLE institutions (
      code text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
      name text NOT NULL,
      type text NOT NULL,
      county text NOT NULL,
      credit_code text UNIQUE,
      attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
    sql`CREATE TABLE api_keys (
      id text PRIMARY KEY,
      name text NOT NULL,
      role text NOT NULL CHECK (role IN ('admin', 'supervisor', 'institution')),
      institution_code text REFERENCES institutions(code),
      token_hash text NOT NULL UNIQUE,
      token_prefix text NOT NULL,
      created_by text,
      created_at timestamptz NOT NULL DEFAULT now(),
      revoked_at timestamptz,
      CHECK ((role = 'institution') = (institution_code IS NOT NULL))
    )`,
    sql`CREATE TABLE uploads (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      file_name text,
      file_sha256 text NOT NULL,
      format text NOT NULL,
      row_count integer NOT NULL,
      uploaded_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    sql`CREATE TABLE submissions (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      upload_id bigint NOT NULL REFERENCES uploads(id),
      institution_code text NOT NULL REFERENCES institutions(code),
      period text NOT NULL,
      version integer NOT NULL CHECK (version >= 1),
      is_current boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (institution_code, period, version)
    )`,
    sql`CREATE UNIQUE INDEX submissions_one_current ON submissions (institution_code, period) WHERE is_current`,
    sql`CREATE TABLE observations (
      submission_id bigint NOT NULL REFERENCES submissions(id),
      institution_code text NOT NULL,
      period text NOT NULL,
      metric text NOT NULL,
      value numeric NOT NULL,
      derived boolean NOT NULL DEFAULT false,
      PRIMARY KEY (submission_id, metric)
    )`,
    sql`CREATE INDEX observations_series ON observations (institution_code, metric, period)`,
    sql`CREATE TABLE alerts (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      fingerprint text NOT NULL,
      rule_id text NOT NULL,
      institution_code text REFERENCES institutions(code),
      metric text NOT NULL,
      state text NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
      severity text NOT NULL,
      value double precision,
      threshold double precision,
      period text NOT NULL,
      first_period text NOT NULL,
      periods integer NOT NULL DEFAULT 1,
      submission_id bigint REFERENCES submissions(id),
      summary jsonb NOT NULL DEFAULT '{}'::jsonb,
      source text,
      started_at timestamptz NOT NULL,
      fired_at timestamptz,
      resolved_at timestamptz,
      updated_at timestamptz NOT NULL
    )`,
    sql`CREATE UNIQUE INDEX alerts_one_active ON alerts (fingerprint) WHERE state <> 'resolved'`,
    sql`CREATE INDEX alerts_state ON alerts (state, severity)`,
    sql`CREATE INDEX alerts_institution ON alerts (institution_code)`,
    sql`CREATE TABLE alert_events (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      alert_id bigint NOT NULL REFERENCES alerts(id),
      at timestamptz NOT NULL,
      kind text NOT NULL,
      from_state text,
      to_state text NOT NULL,
      severity text NOT NULL,
      value double precision,
      period text NOT NULL,
      actor text NOT NULL
    )`,
    sql`CREATE INDEX alert_events_alert ON alert_events (alert_id, id)`,
    sql`CREATE TABLE notification_outbox (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      idempotency_key text NOT NULL UNIQUE,
      alert_id bigint REFERENCES alerts(id),
      event_id bigint REFERENCES alert_events(id),
      route text NOT NULL,
      recipients jsonb NOT NULL,
      payload jsonb NOT NULL,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      locked_until timestamptz,
      claimed_by text,
      last_error text,
      message_id text,
      created_at timestamptz NOT NULL DEFAULT now(),
      sent_at timestamptz
    )`,
    sql`CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at) WHERE status IN ('pending', 'sending')`,
    sql`CREATE TABLE audit_log (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT now(),
      actor text NOT NULL,
      action text NOT NULL,
      target text,
      details jsonb NOT NULL DEFAULT '{}'::jsonb
    )`,
    sql`CREATE TABLE job_runs (
      job text NOT NULL,
      slot text NOT NULL,
      claimed_by text NOT NULL,
      claimed_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (job, slot)
    )`,
  ];
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'job_runs',
    'audit_log',
    'notification_outbox',
    'alert_events',
    'alerts',
    'observations',
    'submissions',
    'uploads',
    'api_keys',
    'institutions',
  ]) {
    await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(db);
  }
}
