import { type ParsedMail, simpleParser } from 'mailparser';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DispatchOptions, dispatchDue } from '../../../src/notify/dispatcher.js';
import { createMailer, type Mailer } from '../../../src/notify/mail.transport.js';
import type { Route } from '../../../src/notify/routes.js';
import { queueLegacyRows, seedAlertEvents } from '../../integration/notify/notify.seed.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { TestSmtpServer } from '../../support/smtp.js';
import { AT, makeRoute } from '../../unit/notify/notify.fixtures.js';

const ROUTES: Route[] = [
  makeRoute({
    name: 'supervisors',
    match: {},
    to: ['supervision@example.gov.cn', 'duty@example.gov.cn'],
    lang: 'zh',
  }),
  makeRoute({
    name: 'leadership',
    match: { severities: ['critical'] },
    to: ['director@example.gov.cn'],
    lang: 'en',
  }),
];
const OPTIONS: DispatchOptions = {
  publicUrl: 'http://riskwatch.test',
  timeZone: 'Asia/Shanghai',
  worker: 'e2e',
  random: () => 0,
};
const FROM = 'RiskWatch <riskwatch@example.gov.cn>';

const addresses = (field: ParsedMail['to']) =>
  (Array.isArray(field) ? field : field ? [field] : []).flatMap((a) => a.value.map((v) => v.address));

describe('e-mail delivery', () => {
  let t: TestDatabase;
  let smtp: TestSmtpServer;
  let mailer: Mailer;
  beforeAll(async () => {
    t = await createTestDatabase();
    smtp = new TestSmtpServer();
    mailer = createMailer({ smtpUrl: await smtp.start(), outboxDir: '/nonexistent', from: FROM });
  });
  afterEach(async () => {
    await t.truncate();
    smtp.received.length = 0;
    smtp.reject = undefined;
    smtp.unknownUsers.clear();
  });
  afterAll(async () => {
    mailer.close();
    await smtp.stop();
    await t.close();
  });

  const enqueue = async () => queueLegacyRows(t.db, await seedAlertEvents(t.db, ['firing']), ROUTES);
  const statuses = async () =>
    (
      await t.db
        .selectFrom('notification_outbox')
        .select(['route', 'status', 'attempts', 'last_error'])
        .orderBy('route')
        .execute()
    ).map((r) => [r.route, r.status, r.attempts, r.last_error]);

  it('delivers a bilingual alert over SMTP that parses back intact', async () => {
    await enqueue();
    expect(await dispatchDue({ db: t.db, mailer, now: AT, options: OPTIONS })).toEqual({
      sent: 2,
      retried: 0,
      failed: 0,
    });
    const rows = await t.db.selectFrom('notification_outbox').selectAll().orderBy('route').execute();
    const eventId = rows[0]?.event_id;
    expect(rows.map((r) => [r.status, r.message_id])).toEqual([
      ['sent', `<${eventId}.leadership@riskwatch>`],
      ['sent', `<${eventId}.supervisors@riskwatch>`],
    ]);

    const byRcpt = new Map(smtp.received.map((m) => [m.rcpt.join(','), m.raw]));
    const zh = await simpleParser(
      byRcpt.get('supervision@example.gov.cn,duty@example.gov.cn') ?? Buffer.alloc(0),
    );
    expect(zh.subject).toBe('[RiskWatch][严重][触发] 泉州测试农村商业银行 — 不良贷款率');
    expect(addresses(zh.to)).toEqual(['supervision@example.gov.cn', 'duty@example.gov.cn']);
    expect(zh.from?.value[0]?.address).toBe('riskwatch@example.gov.cn');
    expect(zh.messageId).toBe(`<${eventId}.supervisors@riskwatch>`);
    expect(zh.text).toContain('当前值：5.42%（阈值 5%，相差 +0.42 个百分点）');
    expect(zh.text).toContain(`http://riskwatch.test/api/v1/alerts/${rows[0]?.alert_id}`);
    expect(zh.html).toContain('<td>泉州测试农村商业银行（QZ001），鲤城区</td>');
    expect(zh.headers.get('auto-submitted')).toBe('auto-generated');

    const en = await simpleParser(byRcpt.get('director@example.gov.cn') ?? Buffer.alloc(0));
    expect(en.subject).toBe('[RiskWatch][Critical][Firing] 泉州测试农村商业银行 — NPL ratio');
    expect(en.messageId).toBe(`<${eventId}.leadership@riskwatch>`);
  });

  it('fails a message the relay refuses with 550, and never sends it again', async () => {
    await enqueue();
    smtp.reject = { code: 550, message: 'Message rejected by policy' };
    expect(await dispatchDue({ db: t.db, mailer, now: AT, options: OPTIONS })).toEqual({
      sent: 0,
      retried: 0,
      failed: 2,
    });
    smtp.reject = undefined;
    expect(
      await dispatchDue({ db: t.db, mailer, now: new Date(AT.getTime() + 86_400_000), options: OPTIONS }),
    ).toEqual({
      sent: 0,
      retried: 0,
      failed: 0,
    });
    expect(smtp.received).toEqual([]);
    const rows = await statuses();
    expect(rows.map((r) => r.slice(0, 3))).toEqual([
      ['leadership', 'failed', 1],
      ['supervisors', 'failed', 1],
    ]);
    expect(rows[0]?.[3]).toMatch(/550 Message rejected by policy/);
  });

  it('retries a message the relay defers with 451, and delivers it later', async () => {
    await enqueue();
    smtp.reject = { code: 451, message: 'Greylisted, try again later' };
    expect(await dispatchDue({ db: t.db, mailer, now: AT, options: OPTIONS })).toEqual({
      sent: 0,
      retried: 2,
      failed: 0,
    });
    expect((await statuses()).map((r) => r.slice(0, 3))).toEqual([
      ['leadership', 'pending', 1],
      ['supervisors', 'pending', 1],
    ]);
    smtp.reject = undefined;
    expect(await dispatchDue({ db: t.db, mailer, now: AT, options: OPTIONS })).toEqual({
      sent: 2,
      retried: 0,
      failed: 0,
    });
    expect(smtp.received).toHaveLength(2);
  });

  it('delivers to the recipients the relay accepts and records the ones it refuses', async () => {
    await enqueue();
    smtp.unknownUsers.add('duty@example.gov.cn');
    smtp.unknownUsers.add('director@example.gov.cn');
    expect(await dispatchDue({ db: t.db, mailer, now: AT, options: OPTIONS })).toEqual({
      sent: 1,
      retried: 0,
      failed: 1,
    });
    expect(smtp.received.map((m) => m.rcpt)).toEqual([['supervision@example.gov.cn']]);
    const rows = await statuses();
    expect(rows.map((r) => r.slice(0, 2))).toEqual([
      ['leadership', 'failed'],
      ['supervisors', 'sent'],
    ]);
    expect(rows[0]?.[3]).toMatch(/550/);
    expect(rows[1]?.[3]).toBe('relay refused: duty@example.gov.cn');
  });

  it('treats an unreachable relay as retryable', async () => {
    const down = createMailer({ smtpUrl: 'smtp://127.0.0.1:1', outboxDir: '/nonexistent', from: FROM });
    const result = await down.send({
      to: ['a@example.gov.cn'],
      subject: 's',
      text: 't',
      html: '<p>t</p>',
      messageId: '<1.a@riskwatch>',
    });
    down.close();
    expect(result).toMatchObject({ ok: false, retryable: true });
  });
});
