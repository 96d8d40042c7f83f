import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import type { Catalog } from '../catalog/catalog.js';
import { type CopyInProgress, copyChunks, startCopy } from '../db/copy-stream.js';
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
  /** Called after each batch of observations an `INSERT` writes (a bulk import gives memory back there). */
  afterBatch?: (batch: number) => void,
  /** The transaction's `pg` client, when versions and observations should go in through COPY (PostgreSQL, bulk). */
  copyClient?: pg.PoolClient,
): Promise<StoredSubmission[]> {
  const versions = await insertUploadVersions(trx, uploadId, drafts, catalog, dueAt, now, copyClient);
  await writeObservations(trx, drafts, versions, afterBatch, copyClient);
  return versions.stored;
}

/**
 * Inserts version n+1 of each draft's (institution, period), marking version n superseded, and derives
 * the values the catalog computes from the reported ones (recorded on each stored version). Set-based:
 * two statements per 20,000 drafts; or, given the transaction's client on PostgreSQL, one statement per
 * 20,000 drafts to supersede, one to reserve the ids and one `COPY`, while which the values are derived.
 */
export async function insertUploadVersions(
  trx: Kysely<Database>,
  uploadId: number,
  drafts: readonly SubmissionDraft[],
  catalog: Catalog,
  dueAt: DueDate,
  now: Date,
  copyClient?: pg.PoolClient,
): Promise<UploadVersions> {
  const stored: StoredSubmission[] = [];
  const deriveAll = () => drafts.map((d, i) => derivedOf(d, stored[i] as StoredSubmission, catalog));
  if (!copyClient) {
    for (const part of batches(drafts))
      stored.push(...(await insertVersions(trx, uploadId, part, dueAt, now)));
    return { stored, derived: deriveAll() };
  }
  const previous = new Map<string, number>();
  for (const part of batches(drafts)) {
    for (const r of await supersede(trx, part)) previous.set(key(r.institution_code, r.period), r.version);
  }
  stored.push(...newVersions(drafts, previous, await reserveIds(trx, drafts.length), dueAt, now));
  const copy = startCopy(copyClient, COPY_SUBMISSIONS, copyChunks(submissionLines(uploadId, stored, now)));
  let derived: UploadVersions['derived'];
  try {
    await copy.flowing;
    // Computed while the server stores the versions: nothing here needs them stored.
    derived = deriveAll();
  } catch (error) {
    await copy.abort(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
  await copy.done;
  return { stored, derived };
}

const COPY_SUBMISSIONS =
  'COPY submissions (id, upload_id, institution_code, period, version, created_at, due_at, late) FROM STDIN';

/** The new versions as lines of `COPY` text: codes and periods are plain ASCII, timestamps ISO 8601. */
function* submissionLines(
  uploadId: number,
  stored: readonly StoredSubmission[],
  now: Date,
): Generator<string> {
  const created = now.toISOString();
  for (const s of stored) {
    yield `${s.id}\t${uploadId}\t${s.institution}\t${s.period}\t${s.version}\t${created}\t${s.due_at ?? '\\N'}\t${s.late ? 't' : 'f'}\n`;
  }
}

/**
 * `count` ids from the submissions' identity sequence, ascending, so that ids follow the drafts' order
 * as those an `INSERT` assigns. `nextval` is never rolled back: ids of a failed upload are skipped, as
 * they are with an `INSERT`.
 */
async function reserveIds(trx: Kysely<Database>, count: number): Promise<number[]> {
  const { rows } = await sql<{ id: number }>`
    SELECT nextval(pg_get_serial_sequence('submissions', 'id')) AS id FROM generate_series(1, ${count}::int)`.execute(
    trx,
  );
  return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
}

/** Marks the current versions of the drafts' (institution, period)s superseded; returns their numbers. */
async function supersede(
  trx: Kysely<Database>,
  part: readonly SubmissionDraft[],
): Promise<Array<{ institution_code: string; period: string; version: number }>> {
  const { rows } = await sql<{ institution_code: string; period: string; version: number }>`
    UPDATE submissions AS s SET is_current = false
    FROM unnest(${part.map((d) => d.institution)}::text[], ${part.map((d) => d.period)}::text[]) AS d(code, period)
    WHERE s.institution_code = d.code AND s.period = d.period AND s.is_current
    RETURNING s.institution_code, s.period, s.version`.execute(trx);
  return rows;
}

/** The stored versions of the drafts, in their order, given the versions they supersede and their ids. */
function newVersions(
  part: readonly SubmissionDraft[],
  previous: ReadonlyMap<string, number>,
  ids: readonly number[],
  dueAt: DueDate,
  now: Date,
): StoredSubmission[] {
  return part.map((d, i) => {
    const due = dueAt(d);
    const supersedes = previous.get(key(d.institution, d.period)) ?? null;
    return {
      id: ids[i] as number,
      institution: d.institution,
      period: d.period,
      version: (supersedes ?? 0) + 1,
      supersedes,
      reported: d.metrics.length,
      derived: [],
      due_at: due?.toISOString() ?? null,
      // Late from the due instant on, as isLate() in src/filing/deadline.ts has it.
      late: due !== null && now >= due,
    };
  });
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
 * Writes the reported and derived observations of an upload's new versions (those of the drafts at
 * `indices`, by default all). Set-based: each statement passes whole columns as arrays through
 * `unnest`, so the statement count grows with rows / 20,000 and PostgreSQL parses one statement, not
 * one per row; or, given the transaction's client on PostgreSQL, one `COPY` streamed as it is made.
 */
export async function writeObservations(
  trx: Kysely<Database>,
  drafts: readonly SubmissionDraft[],
  versions: UploadVersions,
  afterBatch?: (batch: number) => void,
  copyClient?: pg.PoolClient,
  indices: Iterable<number> = drafts.keys(),
): Promise<void> {
  const { stored, derived } = versions;
  let batch = 0;
  if (copyClient) await startObservationCopy(copyClient, drafts, versions, indices).done;
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
    for (const i of indices) {
      const d = drafts[i] as SubmissionDraft;
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
  for (const r of await supersede(trx, part)) previous.set(key(r.institution_code, r.period), r.version);
  const versions = newVersions(part, previous, [], dueAt, now);
  const { rows } = await sql<{ id: number; institution_code: string; period: string }>`
    INSERT INTO submissions (upload_id, institution_code, period, version, created_at, due_at, late)
    SELECT ${uploadId}::bigint, d.code, d.period, d.version, ${now}::timestamptz, d.due_at, d.late
    FROM unnest(
      ${part.map((d) => d.institution)}::text[], ${part.map((d) => d.period)}::text[],
      ${versions.map((v) => v.version)}::int[], ${versions.map((v) => v.due_at)}::timestamptz[],
      ${versions.map((v) => v.late)}::boolean[]
    ) WITH ORDINALITY AS d(code, period, version, due_at, late, n)
    ORDER BY d.n
    RETURNING id, institution_code, period`.execute(trx);
  const ids = new Map(rows.map((r) => [key(r.institution_code, r.period), r.id]));
  return versions.map((v) => ({ ...v, id: ids.get(key(v.institution, v.period)) as number }));
}

/** The values the catalog derives for a draft (recorded on its stored submission), e.g. a ratio from its parts. */
function derivedOf(d: SubmissionDraft, s: StoredSubmission, catalog: Catalog): [string, number][] {
  if (!catalog.mayDerive(d.type, d.metrics)) return [];
  const derived = Object.entries(catalog.derive(d.type, draftValues(d)));
  s.derived.push(...derived.map(([metric]) => metric));
  return derived;
}

/** Bytes of `COPY` text handed to the socket at a time. */
const COPY_CHUNK_BYTES = 256 * 1024;

/**
 * The observations of the drafts at `indices` as `COPY` text, a chunk at a time, each line written
 * straight into the chunk's buffer (see {@link copyChunks}; inlined here, where there are hundreds of
 * thousands of lines). Every value is ASCII and none can hold a tab, a newline or a backslash (codes
 * match ^[A-Za-z0-9_.-]+$, periods and metric codes are canonical, ids and numbers print plainly), so
 * nothing needs escaping and a character is a byte.
 */
function* observationChunks(
  drafts: readonly SubmissionDraft[],
  { stored, derived }: UploadVersions,
  indices: Iterable<number>,
): Generator<Buffer> {
  let chunk = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
  let used = 0;
  for (const i of indices) {
    const d = drafts[i] as SubmissionDraft;
    const prefix = `${(stored[i] as StoredSubmission).id}\t${d.institution}\t${d.period}\t`;
    const extra = derived[i] ?? [];
    const reported = d.metrics.length;
    for (let k = 0; k < reported + extra.length; k++) {
      const e = k < reported ? undefined : extra[k - reported];
      const line = e ? `${prefix}${e[0]}\t${e[1]}\tt\n` : `${prefix}${d.metrics[k]}\t${d.numbers[k]}\tf\n`;
      if (used + line.length > COPY_CHUNK_BYTES) {
        yield chunk.subarray(0, used);
        chunk = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
        used = 0;
      }
      used += chunk.write(line, used, 'latin1');
    }
  }
  if (used > 0) yield chunk.subarray(0, used);
}

const COPY_OBSERVATIONS =
  'COPY observations (submission_id, institution_code, period, metric, value, derived) FROM STDIN';

/**
 * Starts one `COPY … FROM STDIN` (text format) of the observations of the drafts at `indices` on the
 * transaction's client, and returns at once: the lines are made as the socket takes them, and the
 * server stores them while this process goes on (see {@link startCopy}).
 */
export function startObservationCopy(
  client: pg.PoolClient,
  drafts: readonly SubmissionDraft[],
  versions: UploadVersions,
  indices: Iterable<number>,
): CopyInProgress {
  return startCopy(client, COPY_OBSERVATIONS, observationChunks(drafts, versions, indices));
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
