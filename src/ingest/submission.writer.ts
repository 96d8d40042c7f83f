import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Catalog } from '../catalog/catalog.js';
import type { Database } from '../db/schema.js';
import type { Observation } from '../rules/evaluate.js';
import { draftValues, type SubmissionDraft } from './observation.types.js';

/** One stored submission version, as the receipt lists it. */
export interface StoredSubmission {
  readonly id: number;
  readonly institution: string;
  readonly period: string;
  readonly version: number;
  /** The version this one superseded, if any. */
  readonly supersedes: number | null;
  readonly reported: number;
  readonly derived: string[];
  readonly due_at: string | null;
  readonly late: boolean;
}

/** When each draft's filing was due, if its frequency has a deadline. */
export type DueDate = (draft: SubmissionDraft) => Date | null;

/** Rows per statement: large enough to amortise round trips, small enough to bound one statement's memory. */
const BATCH = 20_000;

const key = (institution: string, period: string) => `${institution}\u0000${period}`;

function* batches<T>(items: readonly T[], size = BATCH): Generator<readonly T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/** An upload's new versions, in its drafts' order, and the values the catalog derives for each. */
export interface UploadVersions {
  readonly stored: StoredSubmission[];
  readonly derived: ReadonlyArray<ReadonlyArray<readonly [metric: string, value: number]>>;
}

/**
 * Stores each draft as version n+1 of its (institution, period), marking version n superseded, with its
 * reported and derived observations. The caller holds the institutions' locks and the transaction.
 */
export async function storeVersions(
  trx: Kysely<Database>,
  uploadId: number,
  drafts: readonly SubmissionDraft[],
  catalog: Catalog,
  dueAt: DueDate,
  now: Date,
  /** Called after each batch of observations is written (a bulk import gives memory back there). */
  afterBatch?: (batch: number) => void,
  /** The transaction's `pg` client, when observations should go in through COPY (PostgreSQL, bulk). */
  copyClient?: pg.PoolClient,
): Promise<StoredSubmission[]> {
  const versions = await insertUploadVersions(trx, uploadId, drafts, catalog, dueAt, now);
  await writeObservations(trx, drafts, versions, afterBatch, copyClient);
  return versions.stored;
}

/**
 * Inserts version n+1 of each draft's (institution, period), marking version n superseded, and derives
 * the values the catalog computes from the reported ones (recorded on each stored version). Set-based:
 * two statements per 20,000 drafts.
 */
export async function insertUploadVersions(
  trx: Kysely<Database>,
  uploadId: number,
  drafts: readonly SubmissionDraft[],
  catalog: Catalog,
  dueAt: DueDate,
  now: Date,
): Promise<UploadVersions> {
  const stored: StoredSubmission[] = [];
  for (const part of batches(drafts)) stored.push(...(await insertVersions(trx, uploadId, part, dueAt, now)));
  const derived = drafts.map((d, i) => derivedOf(d, stored[i] as StoredSubmission, catalog));
  return { stored, derived };
}

/**
 * The values of some of an upload's new versions (drafts by index) for some metrics, as the evaluator
 * reads stored observations: what the upload will store, before it is written.
 */
export function pendingObservations(
  drafts: readonly SubmissionDraft[],
  { stored, derived }: UploadVersions,
  indices: Iterable<number>,
  metrics: ReadonlySet<string>,
): Observation[] {
  const pending: Observation[] = [];
  for (const i of indices) {
    const d = drafts[i] as SubmissionDraft;
    const submissionId = (stored[i] as StoredSubmission).id;
    const add = (metric: string, value: number) => {
      if (metrics.has(metric))
        pending.push({ institution: d.institution, metric, period: d.period, value, submissionId });
    };
    for (let k = 0; k < d.metrics.length; k++) add(d.metrics[k] as string, d.numbers[k] as number);
    for (const [metric, value] of derived[i] ?? []) add(metric, value);
  }
  return pending;
}

/**
 * Writes the reported and derived observations of an upload's new versions. Set-based: each
 * statement passes whole columns as arrays through `unnest`, so the statement count grows with
 * rows / 20,000 and PostgreSQL parses one statement, not one per row; or, given the transaction's
 * client on PostgreSQL, one `COPY` streamed as it is made.
 */
export async function writeObservations(
  trx: Kysely<Database>,
  drafts: readonly SubmissionDraft[],
  { stored, derived }: UploadVersions,
  afterBatch?: (batch: number) => void,
  copyClient?: pg.PoolClient,
): Promise<void> {
  let batch = 0;
  if (copyClient) await copyObservations(copyClient, observationLines(drafts, stored, derived), afterBatch);
  else {
    // Observations go in as columns, one statement per batch, built from the drafts without an
    // intermediate object per row.
    let columns = emptyColumns();
    const flush = async () => {
      if (columns.submission.length === 0) return;
      // Each column travels as one comma-joined text split by PostgreSQL: none of them can hold a comma
      // (codes match ^[A-Za-z0-9_.-]+$, periods and metric codes are canonical, numbers print without
      // one), and joining is several times cheaper than the driver's per-element array escaping.
      const column = (values: readonly (string | number)[], type: string) =>
        sql`string_to_array(${values.join(',')}, ',')::${sql.raw(type)}[]`;
      await sql`
        INSERT INTO observations (submission_id, institution_code, period, metric, value, derived)
        SELECT * FROM unnest(${column(columns.submission, 'bigint')}, ${column(columns.institution, 'text')},
          ${column(columns.period, 'text')}, ${column(columns.metric, 'text')}, ${column(columns.value, 'numeric')},
          ${column(columns.derived, 'boolean')})`.execute(trx);
      columns = emptyColumns();
      afterBatch?.(++batch);
    };
    for (const [i, d] of drafts.entries()) {
      const s = stored[i] as StoredSubmission;
      for (let k = 0; k < d.metrics.length; k++) {
        columns.push(s.id, d, d.metrics[k] as string, d.numbers[k] as number, false);
      }
      for (const [metric, value] of derived[i] ?? []) columns.push(s.id, d, metric, value, true);
      if (columns.submission.length >= BATCH) await flush();
    }
    await flush();
  }
}

/**
 * Inserts one new version per draft (at most {@link BATCH}), marking the current one superseded: two
 * statements. Returns the stored versions in the drafts' order.
 */
async function insertVersions(
  trx: Kysely<Database>,
  uploadId: number,
  part: readonly SubmissionDraft[],
  dueAt: DueDate,
  now: Date,
): Promise<StoredSubmission[]> {
  if (part.length === 0) return [];
  const previous = new Map<string, number>();
  const superseded = await sql<{ institution_code: string; period: string; version: number }>`
    UPDATE submissions AS s SET is_current = false
    FROM unnest(${part.map((d) => d.institution)}::text[], ${part.map((d) => d.period)}::text[]) AS d(code, period)
    WHERE s.institution_code = d.code AND s.period = d.period AND s.is_current
    RETURNING s.institution_code, s.period, s.version`.execute(trx);
  for (const r of superseded.rows) previous.set(key(r.institution_code, r.period), r.version);

  const due = part.map(dueAt);
  const versions = part.map((d) => (previous.get(key(d.institution, d.period)) ?? 0) + 1);
  // Late from the due instant on, as isLate() in src/filing/deadline.ts has it.
  const late = due.map((d) => d !== null && now >= d);
  const { rows } = await sql<{ id: number; institution_code: string; period: string }>`
    INSERT INTO submissions (upload_id, institution_code, period, version, created_at, due_at, late)
    SELECT ${uploadId}::bigint, d.code, d.period, d.version, ${now}::timestamptz, d.due_at, d.late
    FROM unnest(
      ${part.map((d) => d.institution)}::text[], ${part.map((d) => d.period)}::text[], ${versions}::int[],
      ${due.map((d) => d?.toISOString() ?? null)}::timestamptz[], ${late}::boolean[]
    ) WITH ORDINALITY AS d(code, period, version, due_at, late, n)
    ORDER BY d.n
    RETURNING id, institution_code, period`.execute(trx);
  const ids = new Map(rows.map((r) => [key(r.institution_code, r.period), r.id]));
  return part.map((d, i) => ({
    id: ids.get(key(d.institution, d.period)) as number,
    institution: d.institution,
    period: d.period,
    version: versions[i] as number,
    supersedes: previous.get(key(d.institution, d.period)) ?? null,
    reported: d.metrics.length,
    derived: [],
    due_at: due[i]?.toISOString() ?? null,
    late: late[i] as boolean,
  }));
}

/** The values the catalog derives for a draft (recorded on its stored submission), e.g. a ratio from its parts. */
function derivedOf(d: SubmissionDraft, s: StoredSubmission, catalog: Catalog): [string, number][] {
  if (!catalog.mayDerive(d.type, d.metrics)) return [];
  const derived = Object.entries(catalog.derive(d.type, draftValues(d)));
  s.derived.push(...derived.map(([metric]) => metric));
  return derived;
}

/** Lines of `COPY` text produced per chunk: small enough to keep memory flat, large enough to batch. */
const COPY_CHUNK_ROWS = 4000;

/**
 * Every observation of the drafts as `COPY` text lines, a chunk at a time. No value can hold a tab, a
 * newline or a backslash (codes match ^[A-Za-z0-9_.-]+$, periods and metric codes are canonical,
 * numbers print plainly), so nothing needs escaping.
 */
function* observationLines(
  drafts: readonly SubmissionDraft[],
  stored: readonly StoredSubmission[],
  derived: UploadVersions['derived'],
): Generator<string> {
  let chunk = '';
  let rows = 0;
  for (const [i, d] of drafts.entries()) {
    const s = stored[i] as StoredSubmission;
    const prefix = `${s.id}\t${d.institution}\t${d.period}\t`;
    for (let k = 0; k < d.metrics.length; k++) chunk += `${prefix}${d.metrics[k]}\t${d.numbers[k]}\tf\n`;
    rows += d.metrics.length;
    for (const [metric, value] of derived[i] ?? []) {
      chunk += `${prefix}${metric}\t${value}\tt\n`;
      rows++;
    }
    if (rows >= COPY_CHUNK_ROWS) {
      yield chunk;
      chunk = '';
      rows = 0;
    }
  }
  if (chunk) yield chunk;
}

/**
 * Streams every observation through one `COPY … FROM STDIN` (text format): the lines are made while
 * PostgreSQL stores the ones before them, so this process's work and the server's overlap.
 * `afterBatch` is called every {@link BATCH} rows or so.
 */
async function copyObservations(
  client: pg.PoolClient,
  lines: Iterable<string>,
  afterBatch?: (batch: number) => void,
): Promise<void> {
  const perBatch = Math.max(1, Math.round(BATCH / COPY_CHUNK_ROWS));
  let chunks = 0;
  await pipeline(
    Readable.from(
      (function* () {
        for (const chunk of lines) {
          yield chunk;
          if (++chunks % perBatch === 0) afterBatch?.(chunks / perBatch);
        }
      })(),
    ),
    client.query(
      copyFrom(
        'COPY observations (submission_id, institution_code, period, metric, value, derived) FROM STDIN',
      ),
    ),
  );
}

function emptyColumns() {
  const c = {
    submission: [] as number[],
    institution: [] as string[],
    period: [] as string[],
    metric: [] as string[],
    value: [] as number[],
    derived: [] as ('t' | 'f')[],
    push(id: number, d: SubmissionDraft, metric: string, value: number, derived: boolean) {
      c.submission.push(id);
      c.institution.push(d.institution);
      c.period.push(d.period);
      c.metric.push(metric);
      c.value.push(value);
      c.derived.push(derived ? 't' : 'f');
    },
  };
  return c;
}
