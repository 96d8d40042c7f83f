import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { RecordedTransition } from '../alerts/alert.repository.js';
import {
  type EvaluationObserver,
  evaluateInputs,
  loadEvaluationInputs,
  type PendingEvaluation,
  type RulesSnapshot,
  recordEvaluation,
  ruleMetrics,
} from '../alerts/evaluation.service.js';
import { recordAudit } from '../audit/audit.repository.js';
import type { Principal } from '../auth/api-key.js';
import { lockInstitutions } from '../db/advisory-locks.js';
import { chunks } from '../db/chunks.js';
import type { Database } from '../db/schema.js';
import { transactionClient, withTransactionClient } from '../db/transaction-client.js';
import { filingDueAt } from '../filing/deadline.js';
import { zonedDay } from '../filing/zoned-day.js';
import { AppError } from '../http/app-error.js';
import { enqueueReceipt } from '../notify/receipt.outbox.js';
import { checkConsistency, checkJumps } from './consistency.js';
import { collectorOfGrowth, releaseGarbage } from './memory.js';
import type { RawObservation, SubmissionDraft } from './observation.types.js';
import { type KnownInstitution, ObservationCollector } from './observation.validator.js';
import { Phases } from './phases.js';
import { PROBLEMS_KEPT, type ProblemLog } from './problem.log.js';
import { buildReceipt, type UploadMeta, type UploadReceipt } from './receipt.js';
import { findReplay, loadPreviousValues } from './upload.repository.js';

export type { UploadMeta } from './receipt.js';

import {
  insertUploadVersions,
  pendingObservations,
  startObservationCopy,
  writeObservations,
} from './submission.writer.js';
import { readObservations } from './table.observations.js';
import { inspectFile, readTableBatches, type TableLimits, type UploadFile } from './upload.file.js';
import type { SheetChoice } from './xlsx.reader.js';

/** Reported to metrics: accepted uploads and the codes of rejected ones. */
export interface SubmissionObserver extends EvaluationObserver {
  accepted(): void;
  rejected(codes: readonly string[]): void;
}

export interface SubmissionDeps {
  readonly db: Kysely<Database>;
  readonly snapshot: () => RulesSnapshot;
  readonly observer?: SubmissionObserver | undefined;
  /** Told how long each phase of an accepted upload took (and when writing starts), for logs and benchmarks. */
  readonly logger?: Pick<Logger, 'info'> | undefined;
}

/** From this many values on, an upload is bulk: memory is given back between its phases. */
const BULK_VALUES = 100_000;

/** Institutions evaluated at a time within one upload's transaction. */
const EVALUATION_SLICE = 5000;

/**
 * Ingests an uploaded file (CSV long/wide in UTF-8, GB18030 or UTF-16; XLSX): read and validated as a
 * stream, then stored atomically with one new version per (institution, period), evaluated in the
 * same transaction. Nothing is stored when any blocking error is found.
 * @throws AppError 413/415/422 naming every problem (up to a cap) with row and column.
 */
export async function ingestFile(
  deps: SubmissionDeps,
  file: UploadFile,
  principal: Principal,
  now: Date,
  options: { sheet?: string | undefined; explanation?: string | undefined; limits: TableLimits },
): Promise<UploadReceipt> {
  const snapshot = deps.snapshot();
  return rejectingOn(deps, async () => {
    const phases = new Phases();
    // The institutions are read while the file is hashed: neither waits for the other. A failure to
    // read them is reported once the file is known to be readable (a handler is attached at once).
    const context = validationContext(deps, snapshot, principal, now);
    context.catch(() => undefined);
    const inspection = await inspectFile(file);
    phases.mark('inspect');
    const collector = new ObservationCollector(await context);
    const { limits } = options;
    let sheet: SheetChoice | undefined;
    const rows = readTableBatches(file, inspection, {
      sheet: options.sheet,
      limits,
      onSheet: (chosen) => {
        sheet = chosen;
      },
    });
    const { layout, dataRows } = await readObservations(
      collectingAsItGrows(rows),
      snapshot.catalog,
      collector,
      limits.maxValues,
    ).catch((error: unknown) => {
      throw options.sheet === undefined && sheet ? withSheetHint(error, sheet) : error;
    });
    const format = `${inspection.kind === 'xlsx' ? 'xlsx' : 'csv'}-${layout}`;
    phases.bulk = collector.count >= BULK_VALUES;
    phases.mark('read', true);
    return store(deps, snapshot, collector, principal, now, phases, {
      fileName: file.name,
      sha256: inspection.sha256,
      bytes: inspection.bytes,
      format,
      ...(inspection.kind === 'text' ? { encoding: inspection.encoding } : { sheet: options.sheet }),
      rowCount: dataRows,
      explanation: options.explanation,
    });
  });
}

/**
 * Hands on the batches of rows, collecting garbage whenever the heap has grown by 64 MB since the last
 * collection: while a large file is read its heap peaks wherever V8 lets it, 170–270 MB at 600,000
 * rows depending on when its concurrent marking gets a core, and a collection now and then keeps it
 * near the values kept so far. A file too small to grow the heap that much is never collected.
 */
async function* collectingAsItGrows<T>(batches: AsyncIterable<T>): AsyncGenerator<T> {
  const check = collectorOfGrowth(64e6);
  for await (const batch of batches) {
    yield batch;
    check();
  }
}

/**
 * Ingests observations already in memory (a JSON body, the demo, tests) through the same validation
 * and storage as files. `meta.sha256` identifies the content for idempotency.
 */
export async function submitObservations(
  deps: SubmissionDeps,
  raw: Iterable<RawObservation>,
  meta: Omit<UploadMeta, 'sha256' | 'bytes'> & { readonly bytes: Uint8Array },
  principal: Principal,
  now: Date,
): Promise<UploadReceipt> {
  const snapshot = deps.snapshot();
  return rejectingOn(deps, async () => {
    const collector = new ObservationCollector(await validationContext(deps, snapshot, principal, now));
    for (const obs of raw) collector.add(obs);
    if (collector.count === 0)
      collector.problems.error({ code: 'empty_file', message: 'The upload contains no observations' });
    const { bytes, ...rest } = meta;
    return store(deps, snapshot, collector, principal, now, new Phases(), {
      ...rest,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.byteLength,
    });
  });
}

/**
 * A workbook often opens on an instructions sheet (填报说明): when the first visible sheet has no usable
 * header and there are others, the answer says which sheet was read and how to name another.
 */
function withSheetHint(error: unknown, sheet: SheetChoice): unknown {
  if (!(error instanceof AppError) || error.code !== 'validation_failed' || sheet.others.length === 0)
    return error;
  if (!error.errors.some((e) => HEADER_CODES.has(e.code))) return error;
  const message = `The first visible sheet, ${sheet.name}, was read; the workbook also has ${sheet.others.join(', ')}: name the data sheet with ?sheet= or the form field sheet`;
  return new AppError(error.status, error.code, error.message, [
    ...error.errors,
    { code: 'sheet_hint', field: 'sheet', value: sheet.name, message },
  ]);
}

const HEADER_CODES = new Set(['missing_column', 'unknown_column', 'duplicate_column', 'unknown_metric']);

/** Counts a rejection (and its codes) for metrics before passing the error on. */
async function rejectingOn<T>(deps: SubmissionDeps, work: () => Promise<T>): Promise<T> {
  try {
    const result = await work();
    deps.observer?.accepted();
    return result;
  } catch (error) {
    if (error instanceof AppError && error.status < 500) {
      deps.observer?.rejected(error.errors.length > 0 ? error.errors.map((e) => e.code) : [error.code]);
    }
    throw error;
  }
}

async function validationContext(
  deps: SubmissionDeps,
  { catalog, timeZone }: RulesSnapshot,
  principal: Principal,
  now: Date,
) {
  // Every institution, keyed by code and by credit code: a prefecture has hundreds, a bulk import
  // names most of them, and one query beats collecting codes first.
  const rows = await deps.db
    .selectFrom('institutions')
    .select(['code', 'type', 'credit_code', 'established_on'])
    .execute();
  const institutions = new Map<string, KnownInstitution>();
  for (const r of rows) {
    institutions.set(r.code, r);
    if (r.credit_code) institutions.set(r.credit_code.toUpperCase(), r);
  }
  return {
    catalog,
    institutions,
    principal,
    // Periods not over yet in the regulator's time zone are refused.
    today: zonedDay(now, timeZone),
  };
}

function rejectIfErrors(problems: ProblemLog): void {
  if (!problems.hasErrors) return;
  const total = problems.total('error');
  throw new AppError(
    422,
    'validation_failed',
    `The upload has ${total} error(s)${total > PROBLEMS_KEPT ? ` (the first ${PROBLEMS_KEPT} are listed)` : ''}; nothing was stored`,
    problems.list('error'),
    {
      errors_total: total,
      ...(problems.total('warning') > 0
        ? { warnings: problems.list('warning'), warnings_total: problems.total('warning') }
        : {}),
    },
  );
}

/** Validates across rows, then stores, evaluates and audits in one transaction. */
async function store(
  deps: SubmissionDeps,
  snapshot: RulesSnapshot,
  collector: ObservationCollector,
  principal: Principal,
  now: Date,
  phases: Phases,
  meta: UploadMeta,
): Promise<UploadReceipt> {
  const { problems } = collector;
  rejectIfErrors(problems);
  const drafts = collector.drafts();
  checkConsistency(drafts, snapshot.catalog, problems, collector.locate);
  rejectIfErrors(problems);
  phases.mark('check');
  const catalog = snapshot.catalog;
  const { timeZone } = snapshot;
  // A bulk file has thousands of drafts and a handful of periods: compute each deadline once.
  const deadlines = new Map<string, Date | null>();
  const dueAt = (d: SubmissionDraft) => {
    let due = deadlines.get(d.period);
    if (due === undefined) {
      due = filingDueAt(d.period, catalog.filingDeadlines, timeZone);
      deadlines.set(d.period, due);
    }
    return due;
  };
  const codes = [...new Set(drafts.map((d) => d.institution))].sort();

  // Inside withTransactionClient, the transaction's pg client is at hand for COPY (PostgreSQL only).
  return withTransactionClient(() =>
    deps.db.transaction().execute(async (trx) => {
      // Serialises uploads for the same institutions, so versions never collide and a replay is seen.
      await lockInstitutions(trx, codes);
      const replay = await findReplay(trx, meta, drafts.length);
      if (replay) return { ...replay, replayed: true };

      phases.mark('lock');
      checkJumps(drafts, await loadPreviousValues(trx, drafts), catalog, problems, collector.locate);
      phases.mark('jumps', true);
      const upload = await trx
        .insertInto('uploads')
        .values({
          file_name: meta.fileName,
          file_sha256: meta.sha256,
          format: meta.format,
          row_count: meta.rowCount,
          uploaded_by: principal.name,
          key_id: principal.keyId,
          byte_count: meta.bytes,
          explanation: meta.explanation ?? null,
          explained_by: meta.explanation ? principal.name : null,
          explained_at: meta.explanation ? now : null,
          created_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      deps.logger?.info({ upload_id: upload.id, submissions: drafts.length }, 'import: writing');
      // On PostgreSQL a bulk upload writes through COPY on the transaction's own connection.
      const copyClient = phases.bulk ? transactionClient() : undefined;
      const versions = await insertUploadVersions(trx, upload.id, drafts, catalog, dueAt, now, copyClient);
      const { stored } = versions;
      phases.mark('versions', true);
      for (const s of stored.filter((x) => x.late)) {
        problems.warning({
          code: 'late_filing',
          value: s.period,
          message: `${s.institution} ${s.period} was due by ${s.due_at}; it is filed late`,
        });
      }
      // Evaluated from memory, in slices of institutions: each slice's stored series are read before its
      // values are written (its new versions exist, the versions they supersede are no longer current,
      // so the stored series lack exactly what the upload brings, which the evaluator takes from
      // memory), and a bulk import's evaluation holds one slice's series in memory, not every
      // institution's. On PostgreSQL a bulk upload's slice goes in through a COPY that the server
      // stores while this process evaluates the slice; the transitions are recorded once it is in.
      const read = ruleMetrics(snapshot.rules);
      // Each institution's drafts, found once rather than by a pass over every draft per slice.
      const draftsOf = new Map<string, number[]>();
      for (const [i, d] of drafts.entries()) {
        const list = draftsOf.get(d.institution);
        if (list) list.push(i);
        else draftsOf.set(d.institution, [i]);
      }
      const recorded: RecordedTransition[] = [];
      for (const slice of chunks(codes, EVALUATION_SLICE)) {
        const indices = slice.flatMap((code) => draftsOf.get(code) ?? []);
        const pending = pendingObservations(drafts, versions, indices, read);
        const inputs = await loadEvaluationInputs(trx, snapshot, slice, now, pending);
        if (!inputs) continue;
        phases.mark('evaluate');
        let evaluation: PendingEvaluation;
        if (copyClient) {
          const copy = startObservationCopy(copyClient, drafts, versions, indices);
          try {
            await copy.flowing;
            phases.mark('write');
            evaluation = evaluateInputs(snapshot, inputs, now);
            // What a slice leaves outlives the young generation: collected here, while the server is
            // still storing the slice, a bulk import's peak stays near its live set.
            releaseGarbage();
          } catch (error) {
            await copy.abort(error instanceof Error ? error : new Error(String(error)));
            throw error;
          }
          phases.mark('evaluate');
          await copy.done;
          phases.mark('write');
        } else {
          evaluation = evaluateInputs(snapshot, inputs, now);
          phases.mark('evaluate');
          await writeObservations(trx, drafts, versions, undefined, undefined, indices);
          phases.mark('write');
          if (phases.bulk) releaseGarbage();
        }
        recorded.push(
          ...(await recordEvaluation(trx, snapshot, inputs, evaluation, principal.name, deps.observer)),
        );
        phases.mark('evaluate');
      }
      const receipt = buildReceipt(upload.id, meta, principal, now, stored, collector, recorded);
      // The uploader's receipt e-mail, if their key has an address: queued with the upload, or not at all.
      await enqueueReceipt(trx, principal, receipt);
      await trx
        .updateTable('uploads')
        .set({ receipt: JSON.stringify(receipt), warning_count: problems.total('warning') })
        .where('id', '=', upload.id)
        .execute();
      await recordAudit(trx, {
        actor: principal.name,
        action: 'submissions.create',
        target: codes.length === 1 ? codes[0] : null,
        details: {
          upload_id: upload.id,
          key_id: principal.keyId,
          file_name: meta.fileName,
          sha256: meta.sha256,
          bytes: meta.bytes,
          submissions: stored.length,
          institutions: codes.length,
          versions: stored
            .slice(0, 100)
            .map((s) => ({ id: s.id, institution: s.institution, period: s.period, version: s.version })),
        },
      });
      return receipt;
    }),
  ).then((receipt) => {
    phases.mark('commit');
    deps.logger?.info(
      { upload_id: receipt.upload_id, rows: meta.rowCount, ...phases.total() },
      'import: committed',
    );
    return receipt;
  });
}
