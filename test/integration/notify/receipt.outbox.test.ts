import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { UploadReceipt } from '../../../src/ingest/receipt.js';
import { dispatchDue } from '../../../src/notify/dispatcher.js';
import type { Mailer, OutgoingMessage } from '../../../src/notify/mail.transport.js';
import { notificationPayloadSchema } from '../../../src/notify/notification.payload.js';
import { enqueueReceipt } from '../../../src/notify/receipt.outbox.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { AT } from '../../unit/notify/notify.fixtures.js';

const FILER = { email: 'filer@qzrcb.example.cn' };

/** An accepted upload's receipt with 30 versions and 25 warnings: more than an e-mail lists. */
function makeReceipt(overrides: Partial<UploadReceipt> = {}): UploadReceipt {
  const versions = Array.from({ length: 30 }, (_, i) => ({
    id: i + 1,
    institution: `QZ${String(i).padStart(3, '0')}`,
    period: '2026-10',
    version: 1,
    supersedes: null,
    reported: 2,
    derived: [],
    due_at: null,
    late: i === 0,
  }));
  return {
    upload_id: 7,
    status: 'accepted',
    replayed: false,
    received_at: AT.toISOString(),
    uploaded_by: 'bulk filer',
    key_id: 'key-1',
    file_name: 'bulk.csv',
    sha256: 'b'.repeat(64),
    bytes: 1234,
    format: 'csv-wide',
    rows: 30,
    observations: 60,
    institutions: 30,
    periods: ['2026-10'],
    counts: { rows: 30, observations: 60, submissions: 30, derived: 0, late: 1, warnings: 25, info: 3 },
    submissions: versions,
    submissions_total: 30,
    warnings: Array.from({ length: 25 }, (_, i) => ({ code: 'duplicate_row', row: i + 2, message: 'twice' })),
    info: [],
    explanation_required: true,
    explanation: null,
    alerts: [],
    ...overrides,
  };
}

function recordingMailer(): Mailer & { sent: OutgoingMessage[] } {
  const sent: OutgoingMessage[] = [];
  return {
    sent,
    send: async (message) => {
      sent.push(message);
      return { ok: true, messageId: message.messageId };
    },
    close: () => undefined,
  };
}

describe(enqueueReceipt.name, () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterEach(async () => t.truncate());
  afterAll(async () => t.close());

  const rows = () => t.db.selectFrom('notification_outbox').selectAll().execute();

  it('queues one receipt e-mail to the key address, due at once, with the first 20 versions and warnings', async () => {
    expect(await enqueueReceipt(t.db, FILER, makeReceipt())).toBe(true);
    const [row, ...more] = await rows();
    expect(more).toEqual([]);
    expect(row).toMatchObject({
      idempotency_key: 'receipt:7',
      route: 'receipt',
      alert_id: null,
      event_id: null,
      recipients: ['filer@qzrcb.example.cn'],
      status: 'pending',
      next_attempt_at: AT,
    });
    const payload = notificationPayloadSchema.parse(row?.payload);
    if (payload.kind !== 'receipt') throw new Error('not a receipt');
    expect(payload).toMatchObject({ v: 1, lang: 'zh', receipt: { upload_id: 7, counts: { warnings: 25 } } });
    expect(payload.receipt.submissions).toHaveLength(20);
    expect(payload.receipt.submissions[0]).toEqual({
      institution: 'QZ000',
      period: '2026-10',
      version: 1,
      late: true,
    });
    expect(payload.receipt.warnings).toHaveLength(20);
    expect(payload.receipt.warnings[0]).toEqual({
      code: 'duplicate_row',
      row: 2,
      column: null,
      message: 'twice',
    });
  });

  it('queues nothing for a key without an address, or for a replay', async () => {
    expect(await enqueueReceipt(t.db, { email: null }, makeReceipt())).toBe(false);
    expect(await enqueueReceipt(t.db, FILER, makeReceipt({ replayed: true }))).toBe(false);
    expect(await rows()).toEqual([]);
  });

  it('queues an upload once, however often it is asked', async () => {
    expect(await enqueueReceipt(t.db, FILER, makeReceipt())).toBe(true);
    expect(await enqueueReceipt(t.db, FILER, makeReceipt())).toBe(false);
    expect(await rows()).toHaveLength(1);
  });

  it('is rolled back with the transaction it was queued in', async () => {
    await expect(
      t.db.transaction().execute(async (trx) => {
        await enqueueReceipt(trx, FILER, makeReceipt());
        throw new Error('the upload failed after all');
      }),
    ).rejects.toThrow('the upload failed after all');
    expect(await rows()).toEqual([]);
  });

  it('is sent once by the dispatcher, with a Message-ID from the upload and no alert headers', async () => {
    await enqueueReceipt(t.db, FILER, makeReceipt());
    const mailer = recordingMailer();
    const results: string[] = [];
    const observer = { onResult: (route: string, outcome: string) => results.push(`${route}:${outcome}`) };
    const options = { publicUrl: 'http://riskwatch.test', timeZone: 'Asia/Shanghai', worker: 'w1' };
    expect(await dispatchDue({ db: t.db, mailer, now: AT, options, observer })).toEqual({
      sent: 1,
      retried: 0,
      failed: 0,
    });
    expect(
      await dispatchDue({ db: t.db, mailer, now: new Date(AT.getTime() + 86_400_000), options }),
    ).toEqual({
      sent: 0,
      retried: 0,
      failed: 0,
    });
    expect(mailer.sent).toHaveLength(1);
    const [mail] = mailer.sent;
    expect(mail).toMatchObject({
      to: ['filer@qzrcb.example.cn'],
      subject: 'RiskWatch 回执 #7: 已接收 bulk.csv (30 份报送, 25 条警告)',
      messageId: '<receipt.7@riskwatch>',
      headers: {
        'Auto-Submitted': 'auto-generated',
        'X-RiskWatch-Route': 'receipt',
        'X-RiskWatch-Upload-Id': '7',
      },
    });
    expect(
      Object.keys(mail?.headers ?? {}).filter((h) => /alert|event|severity|references/i.test(h)),
    ).toEqual([]);
    expect(mail?.text).toContain('- ……另有 10 项，见回执');
    expect(results).toEqual(['receipt:sent']);
    expect((await rows())[0]).toMatchObject({ status: 'sent', message_id: '<receipt.7@riskwatch>' });
  });
});
