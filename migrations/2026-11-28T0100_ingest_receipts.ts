import { type Kysely, sql } from 'kysely';

/**
 * Ingestion at regulatory grade: receipts stored with their upload (fetchable later), the key that
 * uploaded (its id, never the key), lookup by content hash for idempotent re-uploads, late filings,
 * the date an institution was established (no data is expected for periods before it), and the e-mail
 * address an API key's receipts go to.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const statements = [
    sql`ALTER TABLE uploads ADD COLUMN key_id text`,
    sql`ALTER TABLE uploads ADD COLUMN byte_count bigint`,
    sql`ALTER TABLE uploads ADD COLUMN receipt jsonb`,
    sql`ALTER TABLE uploads ADD COLUMN warning_count integer NOT NULL DEFAULT 0`,
    sql`ALTER TABLE uploads ADD COLUMN explanation text`,
    sql`ALTER TABLE uploads ADD COLUMN explained_by text`,
    sql`ALTER TABLE uploads ADD COLUMN explained_at timestamptz`,
    sql`CREATE INDEX uploads_sha256 ON uploads (file_sha256)`,
    sql`ALTER TABLE submissions ADD COLUMN due_at timestamptz`,
    sql`ALTER TABLE submissions ADD COLUMN late boolean NOT NULL DEFAULT false`,
    sql`CREATE INDEX submissions_upload ON submissions (upload_id)`,
    sql`ALTER TABLE institutions ADD COLUMN established_on date`,
    sql`ALTER TABLE api_keys ADD COLUMN email text`,
  ];
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const statements = [
    sql`ALTER TABLE api_keys DROP COLUMN email`,
    sql`ALTER TABLE institutions DROP COLUMN established_on`,
    sql`DROP INDEX submissions_upload`,
    sql`ALTER TABLE submissions DROP COLUMN late`,
    sql`ALTER TABLE submissions DROP COLUMN due_at`,
    sql`DROP INDEX uploads_sha256`,
    ...[
      'explained_at',
      'explained_by',
      'explanation',
      'warning_count',
      'receipt',
      'byte_count',
      'key_id',
    ].map((c) => sql`ALTER TABLE uploads DROP COLUMN ${sql.ref(c)}`),
  ];
  for (const statement of statements) await statement.execute(db);
}
