import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN, createTestService, type TestService } from '../../support/service.js';
import { TestSmtpServer } from '../../support/smtp.js';

const admin = { Authorization: `Bearer ${ADMIN}` };
const day = (month: number, d: number) => new Date(Date.UTC(2024, month - 1, d, 2));

describe('silenced and inhibited alerts over a real SMTP peer', () => {
  let t: TestService;
  let smtp: TestSmtpServer;
  let now = day(6, 1);
  beforeAll(async () => {
    smtp = new TestSmtpServer();
    t = await createTestService({ SMTP_URL: await smtp.start() }, () => now);
    for (const [code, county] of [
      ['B1', '南安市'],
      ['B2', '晋江市'],
      ['B3', '鲤城区'],
    ])
      await request(t.app)
        .post('/api/v1/institutions')
        .set(admin)
        .send({ code, name: `${code}农商行`, type: 'rural_commercial_bank', county })
        .expect(201);
  });
  beforeEach(() => {
    smtp.received.length = 0;
  });
  afterAll(async () => {
    await t.close();
    await smtp.stop();
  });

  const upload = async (institution: string, period: string, npl: number) => {
    const res = await request(t.app)
      .post('/api/v1/submissions')
      .set(admin)
      .send({ institution, period, values: { npl_ratio: npl } })
      .expect(201);
    // Past every route's group_wait: the digests of what the upload notified go out now.
    await t.services.dispatcher.kick(new Date(Date.now() + 3_600_000));
    return res.body;
  };
  const eventsOf = async (alertId: number) =>
    (await request(t.app).get(`/api/v1/alerts/${alertId}/events`).set(admin).expect(200)).body.events as {
      kind: string;
      suppressed: { silenced_by: number[]; inhibited_by: number[] } | null;
    }[];

  it('sends nothing for a silenced institution, still records its firing and resolution, and mails the others', async () => {
    const silence = await request(t.app)
      .post('/api/v1/silences')
      .set(admin)
      .send({ matchers: { institution: 'B1' }, ends_at: day(9, 1).toISOString(), reason: '处置中：增资扩股' })
      .expect(201);
    now = day(6, 2);
    const silenced = await upload('B1', '2024-05', 6.2);
    const notSilenced = await upload('B2', '2024-05', 6.2);
    // One digest per route that matches B2's critical alert; none for B1.
    expect(await smtp.subjects()).toEqual([
      '[Critical] 1 alert · B2农商行',
      '[严重] 1 条预警 · B2农商行',
      '[严重] 1 条预警 · B2农商行',
    ]);
    expect(smtp.received.flatMap((m) => m.rcpt).sort()).toEqual([
      'deputy-director@example.gov.cn',
      'director@example.gov.cn',
      'supervision@example.gov.cn',
      'supervisor-banks@example.gov.cn',
    ]);
    expect(notSilenced.alerts[0].id).not.toBe(silenced.alerts[0].id);

    now = day(7, 2);
    smtp.received.length = 0;
    await upload('B1', '2024-06', 1.1);
    expect(await smtp.subjects()).toEqual([]);
    const note = { silenced_by: [silence.body.id], inhibited_by: [] };
    expect((await eventsOf(silenced.alerts[0].id)).map((e) => [e.kind, e.suppressed])).toEqual([
      ['firing', note],
      ['resolved', note],
    ]);
    const outbox = await t.db.db
      .selectFrom('notification_outbox')
      .select('alert_id')
      .where('alert_id', '=', silenced.alerts[0].id)
      .execute();
    expect(outbox).toEqual([]);
  });

  it('mails the resolution of an alert once its silence is expired', async () => {
    now = day(7, 3);
    const silence = await request(t.app)
      .post('/api/v1/silences')
      .set(admin)
      .send({
        matchers: { institution: 'B2', severity: 'critical' },
        ends_at: day(9, 1).toISOString(),
        reason: '核查',
      })
      .expect(201);
    await request(t.app).delete(`/api/v1/silences/${silence.body.id}`).set(admin).expect(200);
    await upload('B2', '2024-06', 1.1);
    // The two routes that send resolutions (leadership's does not).
    expect(await smtp.subjects()).toEqual([
      '[已解除] 1 条预警解除 · B2农商行',
      '[已解除] 1 条预警解除 · B2农商行',
    ]);
  });

  it('sends the critical alert and holds back the warning it inhibits', async () => {
    now = day(7, 4);
    await upload('B3', '2024-05', 1);
    const fired = await upload('B3', '2024-06', 7);
    const subjects = await smtp.subjects();
    expect(subjects).toHaveLength(3);
    expect(subjects.every((s) => /Critical|严重/.test(s))).toBe(true);
    const jump = fired.alerts.find((a: { severity: string }) => a.severity === 'warning');
    const critical = fired.alerts.find((a: { severity: string }) => a.severity === 'critical');
    expect((await eventsOf(jump.id)).map((e) => [e.kind, e.suppressed])).toEqual([
      ['firing', { silenced_by: [], inhibited_by: [critical.id] }],
    ]);
    const view = (await request(t.app).get(`/api/v1/alerts/${jump.id}`).set(admin).expect(200)).body.alert;
    expect(view).toMatchObject({ silenced_by: [], inhibited_by: [critical.id] });
  });
});
