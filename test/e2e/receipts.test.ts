import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { countRows } from '../support/database.js';
import { ADMIN, createTestService, type TestService } from '../support/service.js';

const auth = { Authorization: `Bearer ${ADMIN}` };
let now = new Date('2024-07-10T02:00:00Z');

async function counts(t: TestService) {
  const n = (table: 'uploads' | 'submissions' | 'observations' | 'audit_log') => countRows(t.db.db, table);
  return {
    uploads: await n('uploads'),
    submissions: await n('submissions'),
    observations: await n('observations'),
    audit: await n('audit_log'),
  };
}

const upload = (t: TestService, csv: string, headers: Record<string, string> = auth) =>
  request(t.app).post('/api/v1/submissions').set(headers).attach('file', Buffer.from(csv), 'bank.csv');

describe('receipts, versions and replays', () => {
  let t: TestService;
  let bankKey: string;
  let otherKey: string;
  beforeAll(async () => {
    t = await createTestService({}, () => now);
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    now = new Date('2024-07-10T02:00:00Z');
    await t.db.truncate();
    for (const code of ['QZRCB01', 'QZRCB02']) {
      await request(t.app)
        .post('/api/v1/institutions')
        .set(auth)
        .send({ code, name: code, type: 'rural_commercial_bank', county: '晋江市' })
        .expect(201);
    }
    const key = async (institution: string) =>
      (
        await request(t.app)
          .post('/api/v1/keys')
          .set(auth)
          .send({ name: `${institution} staff`, role: 'institution', institution })
          .expect(201)
      ).body.token as string;
    bankKey = await key('QZRCB01');
    otherKey = await key('QZRCB02');
  });

  it('answers a byte-identical upload with the same receipt and writes nothing', async () => {
    const csv =
      'institution,period,npl_balance,total_loans\nQZRCB01,2024-06,20,1000\nQZRCB02,2024-06,30,1000\n';
    const first = await upload(t, csv).expect(201);
    expect(first.body).toMatchObject({
      replayed: false,
      counts: { submissions: 2, observations: 4, derived: 2 },
    });
    const before = await counts(t);
    const again = await upload(t, csv).expect(200);
    expect(again.body).toMatchObject({
      replayed: true,
      upload_id: first.body.upload_id,
      sha256: first.body.sha256,
    });
    expect(again.body.submissions).toEqual(first.body.submissions);
    expect(await counts(t)).toEqual(before);
  });

  it('makes a resubmission version 2, keeps version 1 readable, and re-evaluates the alert', async () => {
    const v1 = await upload(t, 'institution,period,metric,value\nQZRCB01,2024-06,npl_ratio,6.2\n').expect(
      201,
    );
    expect(v1.body.alerts).toEqual([expect.objectContaining({ state: 'firing' })]);
    const v2 = await upload(t, 'institution,period,metric,value\nQZRCB01,2024-06,npl_ratio,1.2\n').expect(
      201,
    );
    expect(v2.body.submissions).toEqual([expect.objectContaining({ version: 2, supersedes: 1 })]);
    expect(v2.body.alerts).toEqual([expect.objectContaining({ state: 'resolved' })]);
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
    const old = await request(t.app).get(`/api/v1/submissions/${v1.body.id}`).set(auth).expect(200);
    expect(old.body.observations).toEqual([{ metric: 'npl_ratio', value: 6.2, derived: false }]);
    // Uploading the first bytes again is a real resubmission now: version 1 is no longer current.
    const v3 = await upload(t, 'institution,period,metric,value\nQZRCB01,2024-06,npl_ratio,6.2\n').expect(
      201,
    );
    expect(v3.body).toMatchObject({
      replayed: false,
      submissions: [expect.objectContaining({ version: 3 })],
    });
  });

  it('keeps the receipt fetchable by its uploader only, and records the explanation of its warnings', async () => {
    await upload(t, 'institution,period,metric,value\nQZRCB01,2024-05,total_loans,1000\n', {
      Authorization: `Bearer ${bankKey}`,
    }).expect(201);
    const jump = await upload(t, 'institution,period,metric,value\nQZRCB01,2024-06,total_loans,9000\n', {
      Authorization: `Bearer ${bankKey}`,
    }).expect(201);
    expect(jump.body).toMatchObject({
      explanation_required: true,
      warnings: [expect.objectContaining({ code: 'jump_from_previous', row: 2, column: 4 })],
      counts: { warnings: 1 },
      key_id: expect.any(String),
    });
    const id = jump.body.upload_id as number;
    const mine = await request(t.app)
      .get(`/api/v1/uploads/${id}`)
      .set({ Authorization: `Bearer ${bankKey}` })
      .expect(200);
    expect(mine.body).toEqual(jump.body);
    await request(t.app)
      .get(`/api/v1/uploads/${id}`)
      .set({ Authorization: `Bearer ${otherKey}` })
      .expect(404);
    await request(t.app)
      .post(`/api/v1/uploads/${id}/explanation`)
      .set({ Authorization: `Bearer ${otherKey}` })
      .send({ explanation: 'x' })
      .expect(404);
    const explained = await request(t.app)
      .post(`/api/v1/uploads/${id}/explanation`)
      .set({ Authorization: `Bearer ${bankKey}` })
      .send({ explanation: '本月新增一笔银团贷款' })
      .expect(200);
    expect(explained.body).toMatchObject({
      explanation_required: false,
      explanation: '本月新增一笔银团贷款',
    });
    const audit = await t.db.db.selectFrom('audit_log').select(['action', 'details']).orderBy('id').execute();
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(['submissions.create', 'uploads.explain']),
    );
    expect(JSON.stringify(audit)).not.toContain(bankKey);
  });

  it('accepts an explanation with the upload, and marks a filing after its deadline late', async () => {
    now = new Date('2024-07-16T01:00:00Z'); // 09:00 on 16 July in Quanzhou: the June filing was due by the 15th.
    const late = await request(t.app)
      .post('/api/v1/submissions')
      .set(auth)
      .field('explanation', '系统故障延迟报送')
      .attach(
        'file',
        Buffer.from('institution,period,metric,value\nQZRCB01,2024-06,npl_ratio,1\n'),
        'late.csv',
      )
      .expect(201);
    expect(late.body).toMatchObject({
      counts: { late: 1, warnings: 1 },
      submissions: [expect.objectContaining({ late: true, due_at: '2024-07-15T16:00:00.000Z' })],
      warnings: [expect.objectContaining({ code: 'late_filing' })],
      explanation: '系统故障延迟报送',
      explanation_required: false,
    });
    const stored = await request(t.app).get(`/api/v1/submissions/${late.body.id}`).set(auth).expect(200);
    expect(stored.body).toMatchObject({ late: true });
  });

  it('rejects a whole file for one bad row among good ones, writing nothing', async () => {
    const before = await counts(t);
    const bad = await upload(
      t,
      'institution,period,metric,value\nQZRCB01,2024-06,npl_ratio,1\nQZRCB02,2024-06,npl_ratio,abc\nQZRCB02,2024-07,npl_ratio,1\n',
    ).expect(422);
    expect(bad.body.errors.map((e: { code: string; row: number }) => [e.code, e.row])).toEqual([
      ['invalid_number', 3],
      ['future_period', 4],
    ]);
    expect(bad.body.errors_total).toBe(2);
    expect(await counts(t)).toEqual(before);
  });

  it('leaves no uploaded file behind, and sweeps files a crashed process left over an hour ago', async () => {
    const dir = path.join(t.dataDir, 'tmp', 'uploads');
    await upload(t, 'institution,period,metric,value\nQZRCB01,2024-06,npl_ratio,1\n').expect(201);
    await upload(t, 'institution,period,metric,value\nQZRCB01,2024-06,npl_ratio,x\n').expect(422);
    expect(fs.readdirSync(dir)).toEqual([]);
    fs.writeFileSync(path.join(dir, 'stale'), 'x');
    fs.writeFileSync(path.join(dir, 'recent'), 'x');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    fs.utimesSync(path.join(dir, 'stale'), twoHoursAgo, twoHoursAgo);
    createApp(t.services);
    expect(fs.readdirSync(dir)).toEqual(['recent']);
  });
});
