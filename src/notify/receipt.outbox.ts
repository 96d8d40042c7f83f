import type { Kysely } from 'kysely';
import type { Principal } from '../auth/api-key.js';
import type { Database } from '../db/schema.js';
import type { UploadReceipt } from '../ingest/receipt.js';
import { RECEIPT_ITEMS_LISTED, type ReceiptPayload } from './notification.payload.js';
import { type Lang, RECEIPT_ROUTE } from './routes.js';

export { RECEIPT_ROUTE } from './routes.js';

/** The de-duplication key of a receipt e-mail: one per upload. */
export function receiptIdempotencyKey(uploadId: number): string {
  return `${RECEIPT_ROUTE}:${uploadId}`;
}

/** Snapshots what a receipt e-mail shows, picked field by field from the upload's receipt. */
export function toReceiptPayload(receipt: UploadReceipt, lang: Lang): ReceiptPayload {
  const c = receipt.counts;
  return {
    v: 1,
    lang,
    kind: 'receipt',
    receipt: {
      upload_id: receipt.upload_id,
      received_at: receipt.received_at,
      uploaded_by: receipt.uploaded_by,
      file_name: receipt.file_name,
      sha256: receipt.sha256,
      format: receipt.format,
      counts: {
        rows: c.rows,
        observations: c.observations,
        submissions: c.submissions,
        derived: c.derived,
        late: c.late,
        warnings: c.warnings,
      },
      periods: [...receipt.periods],
      institutions: receipt.institutions,
      submissions: receipt.submissions.slice(0, RECEIPT_ITEMS_LISTED).map((s) => ({
        institution: s.institution,
        period: s.period,
        version: s.version,
        late: s.late,
      })),
      warnings: receipt.warnings.slice(0, RECEIPT_ITEMS_LISTED).map((w) => ({
        code: w.code,
        row: w.row ?? null,
        column: w.column ?? null,
        message: w.message,
      })),
      explanation_required: receipt.explanation_required,
    },
  };
}

/**
 * Queues the receipt e-mail of an accepted upload to the uploader's key address, if it has one. Call it
 * in the upload's transaction: the e-mail exists exactly when the upload does, and the dispatcher sends
 * it once (retrying as for alerts). A replayed upload has its receipt already and queues nothing; so
 * does queuing the same upload twice (`ON CONFLICT DO NOTHING` on `receipt:<upload id>`). Receipts are
 * in Chinese, with an English summary line, since a key has no language.
 * @returns whether a row was inserted.
 */
export async function enqueueReceipt(
  db: Kysely<Database>,
  principal: Pick<Principal, 'email'>,
  receipt: UploadReceipt,
  lang: Lang = 'zh',
): Promise<boolean> {
  if (!principal.email || receipt.replayed) return false;
  const result = await db
    .insertInto('notification_outbox')
    .values({
      idempotency_key: receiptIdempotencyKey(receipt.upload_id),
      alert_id: null,
      event_id: null,
      route: RECEIPT_ROUTE,
      recipients: JSON.stringify([principal.email]),
      payload: JSON.stringify(toReceiptPayload(receipt, lang)),
      // Due at once, whatever the database clock says: the dispatcher compares with its own `now`.
      next_attempt_at: new Date(receipt.received_at),
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}
