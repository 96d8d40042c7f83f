import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN, createTestService, type TestService } from '../../support/service.js';
import { TestSmtpServer } from '../../support/smtp.js';

const auth = { Authorization: `Bearer ${ADMIN}` };
const BANKS = Array.from({ length: 5 }, (_, i) => ({
  code: `QZB0${i}`,
  name: `测试农村商业银行${i}`,
  type: 'rural_commercial_bank',
  county: '晋江市',
}));
const RECIPIENTS = `
routes:
  - name: desk
    to: [desk-a@example.gov.cn, gone@example.gov.cn, desk-b@example.gov.cn]
    group_wait: 0s
  - name: lost
    match: { severities: [critical] }
    to: [gone@example.gov.cn]
    group_wait: 0s
`;

/** A rules folder with the shipped catalog and rules and the routes above. */
function rulesDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'riskwatch-rules-'));
  for (const f of fs.readdirSync('rules')) {
    if (f.endsWith('.yaml') && f !== 'recipients.yaml')
      fs.copyFileSync(path.join('rules', f), path.join(dir, f));
  }
  fs.writeFileSync(path.join(dir, 'recipients.yaml'), RECIPIENTS);
  return dir;
}

describe('delivery faults over SMTP', () => {
  let t: TestService;
  let dir: string;
  const smtp = new TestSmtpServer();
  beforeAll(async () => {
    dir = rulesDir();
    t = await createTestService({ SMTP_URL: await smtp.start(), RULES_DIR: dir });
  });
  afterAll(async () => {
    await t.close();
    await smtp.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await t.db.truncate();
    smtp.reset();
    await request(t.app).post('/api/v1/institutions').set(auth).send(BANKS).expect(201);
  });

  const burst = () =>
    request(t.app)
      .post('/api/v1/submissions')
      .set(auth)
      .attach(
        'file',
        Buffer.from(
          ['institution,period,metric,value', ...BANKS.map((b) => `${b.code},2024-06,npl_ratio,6.5`)].join(
            '\n',
          ),
        ),
        'burst.csv',
      )
      .expect(201);
  /** Runs the pipeline at `hours` from now: beyond the 6 h cap of any backoff, so every retry is due. */
  const passAt = (hours: number) => t.services.dispatcher.kick(new Date(Date.now() + hours * 7 * 3_600_000));
  const outbox = () =>
    t.db.db.selectFrom('notification_outbox').selectAll().orderBy('route').orderBy('id').execute();

  it('delivers every digest exactly once when the relay refuses the first attempts, then accepts', async () => {
    smtp.refuseNext = 3;
    await burst();
    for (let pass = 1; pass <= 4; pass++) await passAt(pass);
    // One digest per bank on each route: 10, each delivered once although 3 attempts were refused.
    const rows = await outbox();
    expect(rows.map((r) => r.status)).toEqual(Array(10).fill('sent'));
    expect(rows.reduce((n, r) => n + r.attempts, 0)).toBe(10 + 3);
    expect(smtp.refused).toBe(3);
    const ids = smtp.received.map((m) => /Message-ID: (<[^>]+>)/i.exec(m.raw.toString())?.[1]);
    expect(ids).toHaveLength(10);
    expect(new Set(ids).size).toBe(10);
    expect(ids.sort()).toEqual(rows.map((r) => r.message_id).sort());
    // More passes send nothing more.
    await passAt(5);
    expect(smtp.received).toHaveLength(10);
  });

  it('records a recipient the relay refuses for good, delivers to the others, and shows the failures', async () => {
    smtp.unknownUsers.add('gone@example.gov.cn');
    await burst();
    await passAt(1);
    await passAt(2);
    const rows = await outbox();
    expect(rows.filter((r) => r.route === 'desk').map((r) => [r.status, r.refused_recipients])).toEqual(
      Array(5).fill(['sent', ['gone@example.gov.cn']]),
    );
    expect(rows.filter((r) => r.route === 'lost').map((r) => [r.status, r.attempts])).toEqual(
      Array(5).fill(['failed', 1]),
    );
    expect(smtp.received.map((m) => m.rcpt)).toEqual(
      Array(5).fill(['desk-a@example.gov.cn', 'desk-b@example.gov.cn']),
    );

    const failed = await request(t.app).get('/api/v1/notifications?state=failed').set(auth).expect(200);
    expect(failed.body.notifications).toHaveLength(5);
    expect(failed.body.notifications[0]).toMatchObject({
      route: 'lost',
      kind: 'digest',
      mode: 'changes',
      status: 'failed',
      recipients: ['gone@example.gov.cn'],
      last_error: expect.stringMatching(/550/),
    });
    expect(failed.body.notifications[0].alert_ids).toHaveLength(1);
    const partial = await request(t.app)
      .get('/api/v1/notifications?state=partial&route=desk')
      .set(auth)
      .expect(200);
    expect(
      partial.body.notifications.map((n: { refused_recipients: string[] }) => n.refused_recipients),
    ).toEqual(Array(5).fill(['gone@example.gov.cn']));
    const bad = await request(t.app).get('/api/v1/notifications?state=lost').set(auth).expect(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);

    const metrics = await request(t.app).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/riskwatch_outbox_failed 5\b/);
    expect(metrics.text).toMatch(
      /riskwatch_notifications_total\{route="lost",outcome="failed",reason="rejected"\} 5\b/,
    );
    expect(metrics.text).toMatch(
      /riskwatch_notifications_total\{route="desk",outcome="sent",reason="partial"\} 5\b/,
    );
  });

  it('keeps the notifications list to admins and supervisors', async () => {
    const key = await request(t.app)
      .post('/api/v1/keys')
      .set(auth)
      .send({ name: 'filer', role: 'institution', institution: 'QZB00' })
      .expect(201);
    await request(t.app)
      .get('/api/v1/notifications')
      .set({ Authorization: `Bearer ${key.body.token}` })
      .expect(403);
  });
});
