import type { Kysely } from 'kysely';
import type { RecordedTransition } from '../alerts/alert.repository.js';
import type { Principal } from '../auth/api-key.js';
import { mustParsePeriod } from '../catalog/period.js';
import type { Database } from '../db/schema.js';
import type { ProblemDetail } from '../http/app-error.js';
import type { ObservationCollector } from './observation.validator.js';
import { PROBLEMS_KEPT } from './problem.log.js';
import type { StoredSubmission } from './submission.writer.js';

/** What an upload was, for the receipt and the audit log. */
export interface UploadMeta {
  readonly fileName: string | null;
  readonly sha256: string;
  readonly bytes: number;
  readonly format: string;
  readonly encoding?: string | undefined;
  readonly sheet?: string | undefined;
  readonly rowCount: number;
  /** The uploader's explanation of the warnings, when given with the upload. */
  readonly explanation?: string | undefined;
}

/**
 * What an accepted upload answers and keeps: the portal's 回执. Stored with the upload, so the
 * uploader can fetch it again (`GET /api/v1/uploads/:id`) exactly as it was first given.
 */
export interface UploadReceipt {
  readonly upload_id: number;
  readonly status: 'accepted';
  /** True when the same bytes had been accepted already and nothing new was written. */
  readonly replayed: boolean;
  readonly received_at: string;
  readonly uploaded_by: string;
  /** The id of the API key used (never the key). */
  readonly key_id: string;
  readonly file_name: string | null;
  readonly sha256: string;
  readonly bytes: number;
  readonly format: string;
  readonly encoding?: string;
  readonly sheet?: string;
  readonly rows: number;
  readonly observations: number;
  readonly institutions: number;
  readonly periods: string[];
  readonly counts: {
    readonly rows: number;
    readonly observations: number;
    readonly submissions: number;
    readonly derived: number;
    readonly late: number;
    readonly warnings: number;
    readonly info: number;
  };
  /** The versions written (the first 1,000; `submissions_total` counts them all). */
  readonly submissions: readonly StoredSubmission[];
  readonly submissions_total: number;
  readonly warnings: readonly ProblemDetail[];
  readonly info: readonly ProblemDetail[];
  /** Warnings need the uploader's explanation, given with the upload or afterwards. */
  readonly explanation_required: boolean;
  readonly explanation: string | null;
  readonly alerts: ReadonlyArray<{
    id: number;
    fingerprint: string;
    kind: string;
    state: string;
    severity: string;
    period: string;
    value: number;
  }>;
}

/** An upload's receipt with who may see it: the institutions it names. */
export interface StoredReceipt {
  readonly receipt: UploadReceipt;
  readonly institutions: readonly string[];
}

/** The stored receipt of one upload, with the current explanation. */
export async function findReceipt(
  db: Kysely<Database>,
  uploadId: number,
): Promise<StoredReceipt | undefined> {
  const row = await db
    .selectFrom('uploads')
    .select(['receipt', 'explanation'])
    .where('id', '=', uploadId)
    .where('receipt', 'is not', null)
    .executeTakeFirst();
  if (!row?.receipt) return undefined;
  const institutions = await db
    .selectFrom('submissions')
    .select('institution_code')
    .distinct()
    .where('upload_id', '=', uploadId)
    .execute();
  const receipt = row.receipt as unknown as UploadReceipt;
  return {
    receipt: {
      ...receipt,
      explanation: row.explanation,
      explanation_required: receipt.counts.warnings > 0 && !row.explanation,
    },
    institutions: institutions.map((i) => i.institution_code),
  };
}

/** Records the uploader's explanation of an upload's warnings. */
export async function explainUpload(
  db: Kysely<Database>,
  uploadId: number,
  explanation: string,
  by: string,
  at: Date,
): Promise<void> {
  await db
    .updateTable('uploads')
    .set({ explanation, explained_by: by, explained_at: at })
    .where('id', '=', uploadId)
    .execute();
}

/** The receipt of an accepted upload, from what was stored and what the checks found. */
export function buildReceipt(
  uploadId: number,
  meta: UploadMeta,
  principal: Principal,
  now: Date,
  stored: readonly StoredSubmission[],
  collector: ObservationCollector,
  recorded: readonly RecordedTransition[],
): UploadReceipt {
  const { problems } = collector;
  const periods = [...new Set(stored.map((s) => s.period))].sort((a, b) =>
    mustParsePeriod(a).frequency === mustParsePeriod(b).frequency ? a.localeCompare(b) : a.length - b.length,
  );
  const institutions = new Set(stored.map((s) => s.institution));
  const warnings = problems.total('warning');
  // Values stored as reported: a repeated identical row counts once.
  const observations = stored.reduce((n, s) => n + s.reported, 0);
  return {
    upload_id: uploadId,
    status: 'accepted',
    replayed: false,
    received_at: now.toISOString(),
    uploaded_by: principal.name,
    key_id: principal.keyId,
    file_name: meta.fileName,
    sha256: meta.sha256,
    bytes: meta.bytes,
    format: meta.format,
    ...(meta.encoding ? { encoding: meta.encoding } : {}),
    ...(meta.sheet ? { sheet: meta.sheet } : {}),
    rows: meta.rowCount,
    observations,
    institutions: institutions.size,
    periods,
    counts: {
      rows: meta.rowCount,
      observations,
      submissions: stored.length,
      derived: stored.reduce((n, s) => n + s.derived.length, 0),
      late: stored.filter((s) => s.late).length,
      warnings,
      info: problems.total('info'),
    },
    submissions: stored.slice(0, PROBLEMS_KEPT),
    submissions_total: stored.length,
    warnings: [...problems.list('warning')],
    info: [...problems.list('info')],
    explanation_required: warnings > 0 && !meta.explanation,
    explanation: meta.explanation ?? null,
    alerts: recorded.map((r) => {
      const a = r.transition.alert;
      return {
        id: r.alertId,
        fingerprint: a.fingerprint,
        kind: r.transition.kind,
        state: r.transition.to,
        severity: a.severity,
        period: a.period,
        value: a.value,
      };
    }),
  };
}
