import { type Kysely, sql } from 'kysely';
import { shiftPeriodText } from '../catalog/period.js';
import type { Database } from '../db/schema.js';
import type { PreviousValues } from './consistency.js';
import type { SubmissionDraft } from './observation.types.js';
import type { UploadMeta, UploadReceipt } from './receipt.js';

/**
 * The receipt of an earlier upload of the same bytes whose versions are all still current: uploading
 * it again changes nothing. Once any of its versions has been superseded, the same bytes are a real
 * resubmission (a correction being reverted) and get new versions.
 */
export async function findReplay(
  trx: Kysely<Database>,
  meta: Pick<UploadMeta, 'sha256' | 'sheet' | 'encoding'>,
  submissions: number,
): Promise<UploadReceipt | undefined> {
  const { sha256 } = meta;
  const row = await trx
    .selectFrom('uploads as u')
    .select('u.receipt')
    .where('u.file_sha256', '=', sha256)
    .where('u.receipt', 'is not', null)
    // The same bytes read differently (another sheet, another declared charset) are another upload.
    .where(sql<boolean>`u.receipt->>'sheet' IS NOT DISTINCT FROM ${meta.sheet ?? null}::text`)
    .where(sql<boolean>`u.receipt->>'encoding' IS NOT DISTINCT FROM ${meta.encoding ?? null}::text`)
    .where(({ selectFrom, not, exists }) =>
      not(
        exists(
          selectFrom('submissions as s')
            .select('s.id')
            .whereRef('s.upload_id', '=', 'u.id')
            .where('s.is_current', '=', false),
        ),
      ),
    )
    .where(
      (eb) =>
        eb
          .selectFrom('submissions as s')
          .select(eb.fn.countAll<number>().as('n'))
          .whereRef('s.upload_id', '=', 'u.id'),
      '=',
      submissions,
    )
    .orderBy('u.id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return (row?.receipt as UploadReceipt | undefined) ?? undefined;
}

/** The current value of each metric in the period before each draft's, for the jump check. */
export async function loadPreviousValues(
  trx: Kysely<Database>,
  drafts: readonly SubmissionDraft[],
): Promise<PreviousValues> {
  const pairs = new Map<string, [string, string]>();
  for (const d of drafts) {
    const previous = shiftPeriodText(d.period, -1);
    pairs.set(`${d.institution}\u0000${previous}`, [d.institution, previous]);
  }
  const previous = new Map<string, { period: string; value: number }>();
  const list = [...pairs.values()];
  for (let i = 0; i < list.length; i += 20_000) {
    const part = list.slice(i, i + 20_000);
    const { rows } = await sql<{ institution_code: string; period: string; metric: string; value: number }>`
      SELECT o.institution_code, o.period, o.metric, o.value
      FROM unnest(${part.map((p) => p[0])}::text[], ${part.map((p) => p[1])}::text[]) AS p(code, period)
      JOIN submissions s ON s.institution_code = p.code AND s.period = p.period AND s.is_current
      JOIN observations o ON o.submission_id = s.id AND NOT o.derived`.execute(trx);
    for (const r of rows)
      previous.set(`${r.institution_code}\u0000${r.metric}`, { period: r.period, value: Number(r.value) });
  }
  return previous;
}
