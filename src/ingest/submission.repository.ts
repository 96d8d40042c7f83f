import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/** A stored submission version with its observations. */
export interface SubmissionView {
  readonly id: number;
  readonly upload_id: number;
  readonly institution: string;
  readonly period: string;
  readonly version: number;
  readonly current: boolean;
  readonly due_at: string | null;
  readonly late: boolean;
  readonly created_at: string;
  readonly uploaded_by: string;
  readonly file_name: string | null;
  readonly sha256: string;
  readonly observations?: Array<{ metric: string; value: number; derived: boolean }>;
}

export interface SubmissionFilter {
  readonly institution?: string | undefined;
  readonly period?: string | undefined;
  readonly limit?: number | undefined;
}

function submissionsQuery(db: Kysely<Database>) {
  return db
    .selectFrom('submissions as s')
    .innerJoin('uploads as u', 'u.id', 's.upload_id')
    .select([
      's.id',
      's.upload_id',
      's.institution_code',
      's.period',
      's.version',
      's.is_current',
      's.due_at',
      's.late',
      's.created_at',
      'u.uploaded_by',
      'u.file_name',
      'u.file_sha256',
    ]);
}

type Row = Awaited<ReturnType<ReturnType<typeof submissionsQuery>['executeTakeFirstOrThrow']>>;

function toView(r: Row): SubmissionView {
  return {
    id: r.id,
    upload_id: r.upload_id,
    institution: r.institution_code,
    period: r.period,
    version: r.version,
    current: r.is_current,
    due_at: r.due_at?.toISOString() ?? null,
    late: r.late,
    created_at: r.created_at.toISOString(),
    uploaded_by: r.uploaded_by,
    file_name: r.file_name,
    sha256: r.file_sha256,
  };
}

/** Submission versions, newest first, every version (superseded ones included). */
export async function listSubmissions(
  db: Kysely<Database>,
  filter: SubmissionFilter,
): Promise<SubmissionView[]> {
  let q = submissionsQuery(db);
  if (filter.institution) q = q.where('s.institution_code', '=', filter.institution);
  if (filter.period) q = q.where('s.period', '=', filter.period);
  const rows = await q
    .orderBy('s.id', 'desc')
    .limit(filter.limit ?? 500)
    .execute();
  return rows.map(toView);
}

/** One submission version with its observations. */
export async function findSubmission(db: Kysely<Database>, id: number): Promise<SubmissionView | undefined> {
  const row = await submissionsQuery(db).where('s.id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const observations = await db
    .selectFrom('observations')
    .select(['metric', 'value', 'derived'])
    .where('submission_id', '=', id)
    .orderBy('derived')
    .orderBy('metric')
    .execute();
  return { ...toView(row), observations };
}
