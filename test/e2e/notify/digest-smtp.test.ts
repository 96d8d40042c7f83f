import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { queueScheduledNotifications } from '../../../src/service.js';
import { ADMIN, createTestService, type TestService } from '../../support/service.js';
import { TestSmtpServer } from '../../support/smtp.js';

const auth = { Authorization: `Bearer ${ADMIN}` };
const PUBLIC_URL = 'https://riskwatch.example.gov.cn';
const INSTITUTIONS = [
  { code: 'QZRCB01', name: '晋江农村商业银行', type: 'rural_commercial_bank', county: '晋江市' },
  { code: 'QZRCB02', name: '石狮农村商业银行', type: 'rural_commercial_bank', county: '晋江市' },
  { code: 'QZVB01', name: '鲤城村镇银行', type: 'village_bank', county: '鲤城区' },
];

/**
 * The shipped routes (rules/recipients.yaml) over a real SMTP server: supervisors and banks get a zh
 * digest per institution, leadership-critical an en digest of critical alerts per county and no
 * resolutions.
 */
describe('digests over SMTP with the shipped routes', () => {
  let t: TestService;
  const smtp = new TestSmtpServer();
  beforeAll(async () => {
    t = await createTestService({
      SMTP_URL: await smtp.start(),
      PUBLIC_URL,
      MAIL_FROM: 'RiskWatch <rw@example.gov.cn>',
    });
  });
  afterAll(async () => {
    await t.close();
    await smtp.stop();
  });
  beforeEach(async () => {
    await t.db.truncate();
    smtp.reset();
    await request(t.app).post('/api/v1/institutions').set(auth).send(INSTITUTIONS).expect(201);
  });

  const upload = (rows: string[]) =>
    request(t.app)
      .post('/api/v1/submissions')
      .set(auth)
      .attach('file', Buffer.from(['institution,period,metric,value', ...rows].join('\n')), 'data.csv')
      .expect(201);
  /** Sends what is due an hour from now: past every shipped group_wait. */
  const flush = () => t.services.dispatcher.kick(new Date(Date.now() + 3_600_000));
  const mailsTo = async (address: string) => (await smtp.parsed()).filter((m) => m.rcpt.includes(address));

  it('sends one digest per route group, zh and en, with HTML and text parts that say the same', async () => {
    await upload([
      'QZRCB01,2024-06,npl_ratio,6.2',
      'QZRCB01,2024-06,capital_adequacy_ratio,9.5',
      'QZRCB02,2024-06,npl_ratio,4.5',
      'QZVB01,2024-06,npl_ratio,6',
    ]);
    // Nothing goes before the group_wait has passed.
    await t.services.dispatcher.kick();
    expect(smtp.received).toEqual([]);
    await flush();

    const supervisors = await mailsTo('supervision@example.gov.cn');
    expect(supervisors.map((m) => m.subject).sort()).toEqual([
      '[严重] 1 条预警 · 鲤城村镇银行',
      '[严重] 2 条预警 · 晋江农村商业银行',
      '[警告] 1 条预警 · 石狮农村商业银行',
    ]);
    const a = supervisors.find((m) => m.subject?.includes('晋江农村商业银行'));
    if (!a?.text || !a.html) throw new Error('expected a text and an HTML part');
    for (const part of [a.text, a.html]) {
      expect(part).toContain('晋江农村商业银行（QZRCB01），晋江市');
      expect(part).toContain('6.2%（阈值 5%，相差 +1.2 个百分点）');
      expect(part).toContain('9.5%（阈值 10.5%，相差 -1 个百分点）');
      expect(part).toContain('自 2024-06 起连续 1 期');
      expect(part).toContain('不良贷款率不得高于5%');
      expect(part).toMatch(new RegExp(`${PUBLIC_URL}/api/v1/alerts/\\d+`));
    }
    expect(a.headers.get('references')).toBe('<thread.supervisors.QZRCB01@riskwatch>');
    expect(a.inReplyTo).toBe('<thread.supervisors.QZRCB01@riskwatch>');
    expect(a.messageId).toMatch(/^<digest\.supervisors\.[0-9a-f]{32}@riskwatch>$/);
    expect(a.from?.value[0]?.address).toBe('rw@example.gov.cn');

    expect((await mailsTo('supervisor-banks@example.gov.cn')).length).toBe(3);
    expect(await mailsTo('supervisor-quasi@example.gov.cn')).toEqual([]);

    // Leadership: critical only, grouped by county, in English.
    const leadership = await mailsTo('director@example.gov.cn');
    expect(leadership.map((m) => m.subject).sort()).toEqual([
      '[Critical] 1 alert · 鲤城村镇银行',
      '[Critical] 2 alerts · 晋江农村商业银行',
    ]);
    const jinjiang = leadership.find((m) => m.subject?.includes('晋江'));
    expect(jinjiang?.text).toContain('Value: 6.2% (threshold 5%, difference +1.2 percentage points)');
    expect(jinjiang?.html).toContain('<html lang="en-US">');
    expect(jinjiang?.text).toContain('Legal basis:');
    expect(smtp.received).toHaveLength(8);
  });

  it('sends a resolved notice in the institution’s thread, except on routes with send_resolved: false', async () => {
    await upload(['QZRCB01,2024-06,npl_ratio,6.2']);
    await flush();
    const first = (await mailsTo('supervision@example.gov.cn'))[0];
    smtp.reset();
    await upload(['QZRCB01,2024-07,npl_ratio,1.1']);
    await flush();
    const notices = await mailsTo('supervision@example.gov.cn');
    const resolved = notices.find((m) => m.subject?.startsWith('[已解除]'));
    expect(resolved?.subject).toBe('[已解除] 1 条预警解除 · 晋江农村商业银行');
    expect(resolved?.text).toContain('自 2024-06 起，于 2024-07 解除');
    expect(resolved?.headers.get('references')).toBe(first?.headers.get('references'));
    expect(
      (await mailsTo('supervisor-banks@example.gov.cn')).some((m) => m.subject?.startsWith('[已解除]')),
    ).toBe(true);
    expect((await mailsTo('director@example.gov.cn')).filter((m) => m.subject?.includes('Resolved'))).toEqual(
      [],
    );
  });

  it('reminds on a working-day slot of the critical alerts nobody acknowledged, none silenced, HTML and text alike', async () => {
    const fired = await upload([
      'QZRCB01,2024-06,npl_ratio,6.2',
      'QZRCB02,2024-06,npl_ratio,6.4',
      'QZVB01,2024-06,npl_ratio,6',
    ]);
    await flush();
    const alertOf = (code: string) =>
      (fired.body.alerts as { id: number; fingerprint: string }[]).find(
        (a) => a.fingerprint === `bank_npl_ratio/${code}/npl_ratio`,
      );
    const [acknowledged, silenced, reminded] = ['QZRCB02', 'QZVB01', 'QZRCB01'].map(alertOf);
    expect([acknowledged, silenced, reminded].every((a) => a !== undefined)).toBe(true);
    await request(t.app)
      .post(`/api/v1/alerts/${acknowledged?.id}/acknowledge`)
      .set(auth)
      .send({ comment: '已约谈' })
      .expect(200);
    // Wednesday 10 March 2027, 10:00 in Quanzhou: a working day, past the supervisors' 09:30 and
    // leadership's 08:45, more than a day after the alerts fired.
    const slot = new Date('2027-03-10T02:00:00Z');
    await request(t.app)
      .post('/api/v1/silences')
      .set(auth)
      .send({ matchers: { institution: 'QZVB01' }, ends_at: '2027-06-30T00:00:00Z', reason: '现场检查中' })
      .expect(201);
    smtp.reset();
    expect(await queueScheduledNotifications(t.services, slot)).toBeGreaterThanOrEqual(2);
    await t.services.dispatcher.kick(new Date(slot.getTime() + 60_000));
    const [zh] = (await mailsTo('supervision@example.gov.cn')).filter((m) => m.subject?.startsWith('[提醒]'));
    expect(zh?.subject).toBe('[提醒][严重] 1 条预警未确认 · 晋江农村商业银行');
    for (const part of [zh?.text ?? '', String(zh?.html ?? '')]) {
      expect(part).toContain('晋江农村商业银行');
      expect(part).not.toContain('石狮农村商业银行');
      expect(part).not.toContain('鲤城村镇银行');
      expect(part).toContain(`${PUBLIC_URL}/api/v1/alerts/${reminded?.id}`);
    }
    const [en] = (await mailsTo('director@example.gov.cn')).filter((m) =>
      m.subject?.startsWith('[Reminder]'),
    );
    expect(en?.subject).toMatch(/^\[Reminder\]\[Critical\] 1 unacknowledged alert\b/);
    // The same slot again (another replica, a restart): nothing more.
    smtp.reset();
    expect(await queueScheduledNotifications(t.services, new Date(slot.getTime() + 3_600_000))).toBe(0);
    await t.services.dispatcher.kick(new Date(slot.getTime() + 7_200_000));
    expect(smtp.received).toEqual([]);
  });
});
