import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { RecordedTransition } from '../alerts/alert.repository.js';
import {
  type EvaluationObserver,
  evaluateInstitutions,
  type RulesSnapshot,
} from '../alerts/evaluation.service.js';
import { recordAudit } from '../audit/audit.repository.js';
import type { Principal } from '../auth/api-key.js';
import type { Catalog } from '../catalog/catalog.js';
import { lockInstitutions } from '../db/advisory-locks.js';
import { chunks } from '../db/chunks.js';
import type { Database } from '../db/schema.js';
import { AppError } from '../http/app-error.js';
import { findInstitutions } from '../institutions/institution.repository.js';
import type { RawObservation, SubmissionDraft } from './observation.types.js';
import { validateObservations } from './observation.validator.js';

/** What an upload was, for the receipt and the audit log. */
export interface UploadMeta {
  readonly fileName: string | null;
  readonly bytes: Uint8Array;
  readonly format: 'csv-long' | 'csv-wide' | 'json';
  readonly rowCount: number;
}

/** One stored submission version. */
export interface SubmissionReceipt {
  readonly id: number;
  readonly institution: string;
  readonly period: string;
  readonly version: number;
  readonly reported: number;
  readonly derived: string[];
}

/** The answer to an accepted upload. */
export interface UploadReceipt {
  readonly upload_id: number;
  readonly sha256: string;
  readonly format: string;
  readonly rows: number;
  readonly observations: number;
  readonly submissions: SubmissionReceipt[];
  readonly alerts: Array<{
    id: number;
    fingerprint: string;
    kind: string;
    state: string;
    severity: string;
    period: string;
    value: number;
  }>;
}

/** Reported to metrics: accepted uploads and the codes of rejected ones. */
export interface SubmissionObserver extends EvaluationObserver {
  accepted(): void;
  rejected(codes: readonly string[]): void;
}

export interface SubmissionDeps {
  readonly db: Kysely<Database>;
  readonly snapshot: () => RulesSnapshot;
  readonly observer?: SubmissionObserver;
}

/**
 * Validates and stores an upload atomically: one new submission version per (institution, period),
 * superseding the previous version, with its reported and derived observations; then evaluates the
 * rules for the institutions concerned in the same transaction.
 * @throws AppError 422 listing every validation problem; nothing is stored then.
 */
export async function submitObservations(
  deps: SubmissionDeps,
  raw: readonly RawObservation[],
  meta: UploadMeta,
  principal: Principal,
  now: Date,
): Promise<UploadReceipt> {
  const snapshot = deps.snapshot();
  const institutions = await findInstitutions(
    deps.db,
    raw.map((r) => r.institution.text.trim()),
  );
  const { drafts, errors } = validateObservations(raw, {
    catalog: snapshot.catalog,
    institutions,
    principal,
  });
  if (errors.length > 0) {
    deps.observer?.rejected(errors.map((e) => e.code));
    throw AppError.unprocessable(
      'validation_failed',
      `The upload has ${errors.length} error(s); nothing was stored`,
      errors,
    );
  }
  const sha256 = createHash('sha256').update(meta.bytes).digest('hex');
  const receipt = await deps.db.transaction().execute(async (trx) => {
    const upload = await trx
      .insertInto('uploads')
      .values({
        file_name: meta.fileName,
        file_sha256: sha256,
        format: meta.format,
        row_count: meta.rowCount,
        uploaded_by: principal.name,
        created_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const typeOf = (code: string) => institutions.get(code)?.type as string;
    const submissions = await storeVersions(trx, upload.id, drafts, typeOf, snapshot.catalog, now);
    const codes = [...new Set(drafts.map((d) => d.institution))];
    const recorded = await evaluateInstitutions(trx, snapshot, codes, now, principal.name, deps.observer);
    await recordAudit(trx, {
      actor: principal.name,
      action: 'submissions.create',
      target: codes.length === 1 ? codes[0] : null,
      details: {
        upload_id: upload.id,
        sha256,
        submissions: submissions.map((s) => ({
          id: s.id,
          institution: s.institution,
          period: s.period,
          version: s.version,
        })),
      },
    });
    return {
      upload_id: upload.id,
      sha256,
      format: meta.format,
      rows: meta.rowCount,
      observations: raw.length,
      submissions,
      alerts: recorded.map(toAlertChange),
    };
  });
  deps.observer?.accepted();
  return receipt;
}

const key = (institution: string, period: string) => `${institution}\u0000${period}`;

/**
 * Stores each (institution, period) as version n+1, marking version n as superseded: a fixed handful
 * of set-based statements whatever the size of the upload.
 */
async function storeVersions(
  trx: Kysely<Database>,
  uploadId: number,
  drafts: readonly SubmissionDraft[],
  typeOf: (institution: string) => string,
  catalog: Catalog,
  now: Date,
): Promise<SubmissionReceipt[]> {
  // Serialises concurrent uploads for the same institution, so versions never collide.
  await lockInstitutions(
    trx,
    drafts.map((d) => d.institution),
  );
  const previous = new Map<string, number>();
  for (const part of chunks(drafts, 5000)) {
    const { rows } = await sql<{ institution_code: string; period: string; version: number }>`
      UPDATE submissions AS s SET is_current = false
      FROM (VALUES ${sql.join(part.map((d) => sql`(${d.institution}::text, ${d.period}::text)`))}) AS d(code, period)
      WHERE s.institution_code = d.code AND s.period = d.period AND s.is_current
      RETURNING s.institution_code, s.period, s.version`.execute(trx);
    for (const r of rows) previous.set(key(r.institution_code, r.period), r.version);
  }
  const ids = new Map<string, { id: number; version: number }>();
  for (const part of chunks(drafts, 5000)) {
    const inserted = await trx
      .insertInto('submissions')
      .values(
        part.map((d) => ({
          upload_id: uploadId,
          institution_code: d.institution,
          period: d.period,
          version: (previous.get(key(d.institution, d.period)) ?? 0) + 1,
          created_at: now,
        })),
      )
      .returning(['id', 'institution_code', 'period', 'version'])
      .execute();
    for (const r of inserted) ids.set(key(r.institution_code, r.period), { id: r.id, version: r.version });
  }
  const receipts: SubmissionReceipt[] = [];
  const rows = drafts.flatMap((d) => {
    const derived = catalog.derive(typeOf(d.institution), d.values);
    const { id, version } = ids.get(key(d.institution, d.period)) as { id: number; version: number };
    receipts.push({
      id,
      institution: d.institution,
      period: d.period,
      version,
      reported: Object.keys(d.values).length,
      derived: Object.keys(derived),
    });
    return [
      ...Object.entries(d.values).map(([metric, value]) => ({ metric, value, derived: false })),
      ...Object.entries(derived).map(([metric, value]) => ({ metric, value, derived: true })),
    ].map((r) => ({ ...r, submission_id: id, institution_code: d.institution, period: d.period }));
  });
  for (const part of chunks(rows, 5000)) await trx.insertInto('observations').values(part).execute();
  return receipts;
}

function toAlertChange(r: RecordedTransition) {
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
}
