import fs from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN, createTestService, type TestService } from '../../support/service.js';

const admin = { Authorization: `Bearer ${ADMIN}` };
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const NOW = new Date('2024-07-10T02:00:00Z');
const FILER = 'filer@qzrcb01.example.cn';
/** total_loans twice with the same value: accepted, with a duplicate_row warning on row 3. */
const WITH_WARNING =
  'institution,period,metric,value\nQZRCB01,2024-06,total_loans,1000\nQZRCB01,2024-06,total_loans,1000\nQZRCB01,2024-06,npl_balance,10\n';

describe('receipt e-mails', () => {
  let t: TestService;
  let filerKey: string;
  let silentKey: string;
  beforeAll(async () => {
    t = await createTestService({ PUBLIC_URL: 'https://riskwatch.example.gov.cn' }, () => NOW);
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    await t.db.truncate();
    fs.rmSync(t.services.config.outboxDir, { recursive: true, force: true });
    await request(t.app)
      .post('/api/v1/institutions')
      .set(admin)
      .send({ code: 'QZRCB01', name: '晋江农村商业银行', type: 'rural_commercial_bank', county: '晋江市' })
      .expect(201);
    const key = async (body: object) =>
      (await request(t.app).post('/api/v1/keys').set(admin).send(body).expect(201)).body.token as string;
    filerKey = await key({
      name: '晋江农商行报送',
      role: 'institution',
      institution: 'QZRCB01',
      email: FILER,
    });
    silentKey = await key({ name: '晋江农商行报送（无邮件）', role: 'institution', institution: 'QZRCB01' });
  });

  const upload = (csv: string, headers: Record<string, string>) =>
    request(t.app)
      .post('/api/v1/submissions')
      .set(headers)
      .attach('file', Buffer.from(csv), '晋江农商行.csv');
  const outbox = () => t.db.db.selectFrom('notification_outbox').selectAll().orderBy('id').execute();

  it('keeps the address with the key and lists it, never the token; refuses one that is not an address', async () => {
    const listed = await request(t.app).get('/api/v1/keys').set(admin).expect(200);
    expect(listed.body.keys).toEqual([
      expect.objectContaining({ name: '晋江农商行报送', email: FILER }),
      expect.objectContaining({ name: '晋江农商行报送（无邮件）', email: null }),
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(filerKey.slice(10));
    const bad = await request(t.app)
      .post('/api/v1/keys')
      .set(admin)
      .send({ name: 'x', role: 'supervisor', email: 'not an address' })
      .expect(422);
    expect(bad.body.errors).toEqual([expect.objectContaining({ path: 'email' })]);
  });

  it('e-mails the receipt of an accepted upload to the key address, and a replay sends nothing more', async () => {
    const accepted = await upload(WITH_WARNING, bearer(filerKey)).expect(201);
    const id = accepted.body.upload_id as number;
    expect(accepted.body.warnings).toEqual([
      expect.objectContaining({ code: 'duplicate_row', row: 3, column: 4 }),
    ]);
    // The upload route kicked the dispatcher: wait for that pass rather than starting one.
    await t.services.dispatcher.idle();

    const rows = await outbox();
    expect(rows.map((r) => [r.route, r.idempotency_key, r.recipients, r.alert_id, r.status])).toEqual([
      ['receipt', `receipt:${id}`, [FILER], null, 'sent'],
    ]);
    const files = t.outboxFiles();
    expect(files).toHaveLength(1);
    const mail = await simpleParser(
      fs.readFileSync(path.join(t.services.config.outboxDir, files[0] as string)),
    );
    expect(mail.subject).toBe(`RiskWatch 回执 #${id}: 已接收 晋江农商行.csv (1 份报送, 1 条警告)`);
    expect(
      (Array.isArray(mail.to) ? mail.to : [mail.to]).flatMap((a) => a?.value.map((v) => v.address)),
    ).toEqual([FILER]);
    expect(mail.messageId).toBe(`<receipt.${id}@riskwatch>`);
    expect(mail.headers.get('x-riskwatch-route')).toBe('receipt');
    expect(mail.headers.get('x-riskwatch-upload-id')).toBe(String(id));
    const { counts } = accepted.body;
    expect(mail.text).toContain(`回执编号：#${id}`);
    expect(mail.text).toContain('接收时间：2024-07-10 10:00（Asia/Shanghai）');
    expect(mail.text).toContain(
      `数量：3 行，2 个报送值（另派生 ${counts.derived} 个），1 份报送（其中逾期 ${counts.late} 份），1 条警告`,
    );
    expect(mail.text).toContain('期间：2024-06');
    expect(mail.text).toContain(`- QZRCB01 2024-06 第 1 版${counts.late ? '（逾期报送）' : ''}`);
    expect(mail.text).toContain(
      '- 第 3 行第 4 列：[duplicate_row] total_loans for QZRCB01 2024-06 repeats row 2',
    );
    expect(mail.text).toContain(`Receipt #${id}: accepted 晋江农商行.csv, 1 submission, 1 warning.`);
    expect(mail.text).toContain(`查看回执：https://riskwatch.example.gov.cn/api/v1/uploads/${id}`);
    expect(mail.html).toContain(`href="https://riskwatch.example.gov.cn/api/v1/uploads/${id}"`);

    const replay = await upload(WITH_WARNING, bearer(filerKey)).expect(200);
    expect(replay.body).toMatchObject({ replayed: true, upload_id: id });
    await t.services.dispatcher.kick();
    expect(await outbox()).toHaveLength(1);
    expect(t.outboxFiles()).toHaveLength(1);

    const metrics = await request(t.app).get('/metrics').expect(200);
    expect(metrics.text).toMatch(
      /riskwatch_notifications_total\{route="receipt",outcome="sent",reason="none"\} 1\b/,
    );
  });

  it('queues no receipt for a key without an address, nor for the admin token', async () => {
    await upload(WITH_WARNING, bearer(silentKey)).expect(201);
    await upload('institution,period,metric,value\nQZRCB01,2024-05,total_loans,900\n', admin).expect(201);
    await t.services.dispatcher.kick();
    expect(await outbox()).toEqual([]);
    expect(t.outboxFiles()).toEqual([]);
  });

  it('queues no receipt for a rejected upload: the e-mail is written with the upload or not at all', async () => {
    const rejected = await upload(
      'institution,period,metric,value\nQZRCB01,2024-06,npl_rate,1\n',
      bearer(filerKey),
    );
    expect(rejected.status).toBe(422);
    // Another institution's rows: refused for this key, nothing stored.
    await upload('institution,period,metric,value\nQZRCB02,2024-06,total_loans,1\n', bearer(filerKey)).expect(
      422,
    );
    await t.services.dispatcher.kick();
    expect(await outbox()).toEqual([]);
    expect(await t.db.db.selectFrom('uploads').select('id').execute()).toEqual([]);
  });
});
