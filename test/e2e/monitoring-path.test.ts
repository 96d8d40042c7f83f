import fs from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { countRows } from '../support/database.js';
import { ADMIN, createTestService, type TestService } from '../support/service.js';

const auth = { Authorization: `Bearer ${ADMIN}` };

describe('the monitoring path through HTTP', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await createTestService();
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    await t.db.truncate();
    await request(t.app)
      .post('/api/v1/institutions')
      .set(auth)
      .send({ code: 'QZRCB01', name: '晋江农村商业银行', type: 'rural_commercial_bank', county: '晋江市' })
      .expect(201);
  });

  it('turns an NPL ratio of 6.2% into a firing critical alert, a metric and an e-mail', async () => {
    const csv = 'institution,period,metric,value\nQZRCB01,2024-06,npl_ratio,6.2\n';
    const upload = await request(t.app)
      .post('/api/v1/submissions')
      .set(auth)
      .attach('file', Buffer.from(csv), 'npl.csv')
      .expect(201);
    expect(upload.body).toMatchObject({
      version: 1,
      submissions: [{ institution: 'QZRCB01', period: '2024-06', version: 1 }],
    });
    expect(upload.body.alerts).toEqual([
      expect.objectContaining({ kind: 'firing', severity: 'critical', state: 'firing' }),
    ]);

    const alerts = await request(t.app).get('/api/v1/alerts?state=firing').set(auth).expect(200);
    expect(alerts.body.alerts).toEqual([
      expect.objectContaining({
        institution: 'QZRCB01',
        metric: 'npl_ratio',
        severity: 'critical',
        state: 'firing',
        value: 6.2,
        period: '2024-06',
      }),
    ]);

    const metrics = await request(t.app).get('/metrics').expect(200);
    expect(metrics.text).toMatch(
      /riskwatch_institution_metric_value\{[^}]*institution="QZRCB01"[^}]*metric="npl_ratio"[^}]*\} 6\.2/,
    );
    expect(metrics.text).toMatch(
      /riskwatch_alerts_firing\{severity="critical",[^}]*institution_type="rural_commercial_bank"[^}]*\} 1/,
    );

    // Past every route's group_wait, so that the digests are made and sent.
    await t.services.dispatcher.kick(new Date(Date.now() + 3_600_000));
    const files = t.outboxFiles();
    expect(files.length).toBeGreaterThan(0);
    const mail = await simpleParser(
      fs.readFileSync(path.join(t.services.config.outboxDir, files[0] as string)),
    );
    expect(mail.subject).toContain('晋江农村商业银行');
    expect(mail.text).toContain('6.2');
  });

  it('rejects an unknown metric, a malformed period and a text value all at once, storing nothing', async () => {
    const csv = [
      'institution,period,metric,value',
      'QZRCB01,2024-06,npl_rate,1.2',
      'QZRCB01,2024-6,npl_ratio,1.5',
      'QZRCB01,2024-07,npl_ratio,high',
    ].join('\n');
    const res = await request(t.app)
      .post('/api/v1/submissions')
      .set(auth)
      .attach('file', Buffer.from(csv), 'bad.csv')
      .expect(422);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.errors).toEqual([
      expect.objectContaining({ code: 'unknown_metric', row: 2, column: 3 }),
      expect.objectContaining({ code: 'invalid_period', row: 3, column: 2 }),
      expect.objectContaining({ code: 'invalid_number', row: 4, column: 4 }),
    ]);
    for (const table of [
      'uploads',
      'submissions',
      'observations',
      'alerts',
      'notification_outbox',
    ] as const) {
      expect(await countRows(t.db.db, table)).toBe(0);
    }
  });

  it('judges a derived ratio and a superseding version as they will be stored, with the history before them', async () => {
    // The upload is evaluated before its values are written (src/ingest/submission.service.ts): the
    // derived NPL ratio, the new version instead of the one it supersedes, and the earlier period all count.
    const send = (period: string, npl: string) =>
      request(t.app)
        .post('/api/v1/submissions')
        .set(auth)
        .send({ institution: 'QZRCB01', period, values: { npl_balance: npl, total_loans: 1000 } })
        .expect(201);
    const may = await send('2024-05', '62');
    expect(may.body.alerts).toEqual([expect.objectContaining({ kind: 'firing', severity: 'critical' })]);
    const june = await send('2024-06', '63');
    const firing = await request(t.app).get('/api/v1/alerts?state=firing').set(auth).expect(200);
    expect(firing.body.alerts).toEqual([
      expect.objectContaining({ metric: 'npl_ratio', value: 6.3, period: '2024-06', periods: 2 }),
    ]);
    expect(june.body.alerts).toEqual([expect.objectContaining({ kind: 'updated', value: 6.3 })]);
    const corrected = await send('2024-06', '12');
    expect(corrected.body.version).toBe(2);
    expect(corrected.body.alerts).toEqual([expect.objectContaining({ kind: 'resolved' })]);
    const resolved = await request(t.app).get('/api/v1/alerts?state=resolved').set(auth).expect(200);
    expect(resolved.body.alerts).toEqual([
      expect.objectContaining({ metric: 'npl_ratio', value: 1.2, period: '2024-06' }),
    ]);
  });

  it('keeps earlier versions when the same institution and period is uploaded again', async () => {
    const send = (value: string) =>
      request(t.app)
        .post('/api/v1/submissions')
        .set(auth)
        .send({
          institution: 'QZRCB01',
          period: '2024-06',
          values: { npl_balance: value, total_loans: 1000 },
        });
    const first = await send('30').expect(201);
    const second = await send('62').expect(201);
    expect([first.body.version, second.body.version]).toEqual([1, 2]);
    const v2 = await request(t.app).get(`/api/v1/submissions/${second.body.id}`).set(auth).expect(200);
    expect(v2.body.observations).toContainEqual({ metric: 'npl_ratio', value: 6.2, derived: true });
    const history = await request(t.app)
      .get('/api/v1/submissions?institution=QZRCB01&period=2024-06')
      .set(auth)
      .expect(200);
    expect(
      history.body.submissions.map((s: { version: number; current: boolean }) => [s.version, s.current]),
    ).toEqual([
      [2, true],
      [1, false],
    ]);
  });
});
