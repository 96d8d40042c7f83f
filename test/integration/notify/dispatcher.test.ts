import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DispatchOptions, dispatchDue } from '../../../src/notify/dispatcher.js';
import type { Mailer, OutgoingMessage, SendResult } from '../../../src/notify/mail.transport.js';
import type { Route } from '../../../src/notify/routes.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { AT, makeRoute } from '../../unit/notify/notify.fixtures.js';
import { queueLegacyRows, seedAlertEvents } from './notify.seed.js';

const ROUTES: Route[] = [
  makeRoute({ name: 'supervisors', match: {}, to: ['supervision@example.gov.cn'], lang: 'zh' }),
];
const OPTIONS: DispatchOptions = {
  publicUrl: 'http://riskwatch.test',
  timeZone: 'Asia/Shanghai',
  worker: 'w1',
  baseDelayMs: 1000,
  maxAttempts: 3,
  random: () => 0.5,
};
const later = (ms: number) => new Date(AT.getTime() + ms);

/** A mailer that answers from a script and records what it was asked to send. */
function scriptedMailer(...script: SendResult[]): Mailer & { sent: OutgoingMessage[] } {
  const sent: OutgoingMessage[] = [];
  return {
    sent,
    async send(message) {
      sent.push(message);
      return script.shift() ?? { ok: true, messageId: message.messageId };
    },
    close: () => undefined,
  };
}

describe(dispatchDue.name, () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterEach(async () => t.truncate());
  afterAll(async () => t.close());

  const outbox = () => t.db.selectFrom('notification_outbox').selectAll().executeTakeFirstOrThrow();
  const enqueue = async () => queueLegacyRows(t.db, await seedAlertEvents(t.db, ['firing']), ROUTES);

  it('sends a due row once, with a Message-ID from its idempotency key', async () => {
    await enqueue();
    const mailer = scriptedMailer();
    const results: string[] = [];
    const observer = { onResult: (route: string, outcome: string) => results.push(`${route}:${outcome}`) };
    expect(await dispatchDue({ db: t.db, mailer, now: AT, options: OPTIONS, observer })).toEqual({
      sent: 1,
      retried: 0,
      failed: 0,
    });
    expect(await dispatchDue({ db: t.db, mailer, now: later(3600_000), options: OPTIONS })).toEqual({
      sent: 0,
      retried: 0,
      failed: 0,
    });
    const row = await outbox();
    expect(mailer.sent).toHaveLength(1);
    expect(mailer.sent[0]).toMatchObject({
      to: ['supervision@example.gov.cn'],
      subject: '[RiskWatch][严重][触发] 泉州测试农村商业银行 — 不良贷款率',
      messageId: `<${row.event_id}.supervisors@riskwatch>`,
      headers: { 'Auto-Submitted': 'auto-generated', 'X-RiskWatch-Route': 'supervisors' },
    });
    expect(row).toMatchObject({
      status: 'sent',
      attempts: 1,
      message_id: `<${row.event_id}.supervisors@riskwatch>`,
    });
    expect(results).toEqual(['supervisors:sent']);
  });

  it('retries a transient failure after a jittered backoff, then succeeds', async () => {
    await enqueue();
    const mailer = scriptedMailer({ ok: false, retryable: true, reason: '451 try later' });
    expect(await dispatchDue({ db: t.db, mailer, now: AT, options: OPTIONS })).toEqual({
      sent: 0,
      retried: 1,
      failed: 0,
    });
    // Attempt 1 with random 0.5: half of the 1 s base.
    expect(await outbox()).toMatchObject({
      status: 'pending',
      attempts: 1,
      last_error: '451 try later',
      next_attempt_at: later(500),
    });
    expect(await dispatchDue({ db: t.db, mailer, now: later(499), options: OPTIONS })).toEqual({
      sent: 0,
      retried: 0,
      failed: 0,
    });
    expect(await dispatchDue({ db: t.db, mailer, now: later(500), options: OPTIONS })).toEqual({
      sent: 1,
      retried: 0,
      failed: 0,
    });
    expect(await outbox()).toMatchObject({ status: 'sent', attempts: 2, last_error: null });
    expect(mailer.sent.map((m) => m.messageId)).toEqual([
      mailer.sent[0]?.messageId,
      mailer.sent[0]?.messageId,
    ]);
  });

  it('fails a permanent rejection at once, without retrying', async () => {
    await enqueue();
    const mailer = scriptedMailer({ ok: false, retryable: false, reason: 'EENVELOPE: 550 no such user' });
    const reasons: unknown[] = [];
    const observer = {
      onResult: (_: string, outcome: string, reason?: string) => reasons.push([outcome, reason]),
    };
    expect(await dispatchDue({ db: t.db, mailer, now: AT, options: OPTIONS, observer })).toEqual({
      sent: 0,
      retried: 0,
      failed: 1,
    });
    expect(await dispatchDue({ db: t.db, mailer, now: later(86_400_000), options: OPTIONS })).toEqual({
      sent: 0,
      retried: 0,
      failed: 0,
    });
    expect(await outbox()).toMatchObject({
      status: 'failed',
      attempts: 1,
      last_error: 'EENVELOPE: 550 no such user',
    });
    expect(reasons).toEqual([['failed', 'rejected']]);
  });

  it('gives up after maxAttempts transient failures', async () => {
    await enqueue();
    const transient = { ok: false, retryable: true, reason: 'ETIMEDOUT: timeout' } as const;
    const mailer = scriptedMailer(transient, transient, transient);
    const summaries = [];
    for (const at of [0, 10_000, 20_000])
      summaries.push(await dispatchDue({ db: t.db, mailer, now: later(at), options: OPTIONS }));
    expect(summaries.map((s) => [s.retried, s.failed])).toEqual([
      [1, 0],
      [1, 0],
      [0, 1],
    ]);
    expect(await outbox()).toMatchObject({
      status: 'failed',
      attempts: 3,
      last_error: 'gave up after 3 attempts: ETIMEDOUT: timeout',
    });
  });

  it('re-sends a row whose sender died mid-send, once its lease expires, with the same Message-ID', async () => {
    await enqueue();
    const crashing: Mailer = { send: () => new Promise(() => undefined), close: () => undefined };
    void dispatchDue({ db: t.db, mailer: crashing, now: AT, options: { ...OPTIONS, leaseMs: 60_000 } });
    await expect.poll(async () => (await outbox()).status).toBe('sending');
    const mailer = scriptedMailer();
    expect(await dispatchDue({ db: t.db, mailer, now: later(59_999), options: OPTIONS })).toEqual({
      sent: 0,
      retried: 0,
      failed: 0,
    });
    expect(await dispatchDue({ db: t.db, mailer, now: later(60_000), options: OPTIONS })).toEqual({
      sent: 1,
      retried: 0,
      failed: 0,
    });
    const row = await outbox();
    expect(row).toMatchObject({ status: 'sent', attempts: 2 });
    expect(mailer.sent[0]?.messageId).toBe(`<${row.event_id}.supervisors@riskwatch>`);
  });

  it('stops re-claiming a row that keeps crashing its sender', async () => {
    await enqueue();
    await t.db
      .updateTable('notification_outbox')
      .set({ status: 'sending', attempts: 3, locked_until: AT })
      .execute();
    const mailer = scriptedMailer();
    expect(await dispatchDue({ db: t.db, mailer, now: AT, options: OPTIONS })).toEqual({
      sent: 0,
      retried: 0,
      failed: 1,
    });
    expect(mailer.sent).toEqual([]);
    expect((await outbox()).last_error).toMatch(/^gave up after 3 attempts \(lease expired\)/);
  });

  it('fails a row whose payload this version cannot read', async () => {
    await enqueue();
    await t.db
      .updateTable('notification_outbox')
      .set({ payload: JSON.stringify({ v: 99 }) })
      .execute();
    const mailer = scriptedMailer();
    expect(await dispatchDue({ db: t.db, mailer, now: AT, options: OPTIONS })).toEqual({
      sent: 0,
      retried: 0,
      failed: 1,
    });
    expect((await outbox()).last_error).toMatch(/^invalid outbox row/);
  });

  it('records recipients the relay refused while delivering to the rest', async () => {
    await enqueue();
    const mailer = scriptedMailer({
      ok: true,
      messageId: '<x@riskwatch>',
      rejected: ['gone@example.gov.cn'],
    });
    expect(await dispatchDue({ db: t.db, mailer, now: AT, options: OPTIONS })).toEqual({
      sent: 1,
      retried: 0,
      failed: 0,
    });
    expect(await outbox()).toMatchObject({
      status: 'sent',
      last_error: 'relay refused: gone@example.gov.cn',
    });
  });
});
