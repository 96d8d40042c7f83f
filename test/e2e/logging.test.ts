import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Express } from 'express';
import { sql } from 'kysely';
import { pino } from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createApp } from '../../src/http/app.js';
import { openServices, type Services } from '../../src/service.js';
import { createTestDatabase } from '../support/database.js';

const ADMIN_TOKEN = 'admin-token-0f3a9c1e7b5d';
const METRICS_TOKEN = 'metrics-token-8e2d4b6a';
const SMTP_PASSWORD = 'smtp-password-5c7e9a1b';

interface LogLine {
  level: number;
  msg: string;
  req?: { method: string; url: string; headers: Record<string, string> };
  res?: { statusCode: number };
  err?: { message: string };
}

/**
 * Logs never carry secrets: the service runs with a logger writing to memory (no redaction of its
 * own, so the app's own defences are what is tested), takes requests with real keys, the admin
 * token and a bogus key, creates a key whose token comes back in a response, and fails with a
 * 401, a 422 and a 500; then the captured log is searched for every secret.
 */
describe('logging', () => {
  const chunks: string[] = [];
  let services: Services;
  let app: Express;
  let dataDir: string;
  const secrets: string[] = [ADMIN_TOKEN, METRICS_TOKEN, SMTP_PASSWORD, 'rw_bogusbogusbogusbogusbogus'];
  const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
  const logText = () => chunks.join('');
  const logLines = (): LogLine[] =>
    logText()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as LogLine);

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'riskwatch-logging-'));
    const config = loadConfig({
      DATA_DIR: dataDir,
      ADMIN_TOKEN,
      METRICS_TOKEN,
      // Nothing listens on port 1: e-mails fail and are kept for retry.
      SMTP_URL: `smtp://riskwatch:${SMTP_PASSWORD}@127.0.0.1:1`,
      SCHEDULER: 'off',
      RULES_DIR: 'rules',
    });
    const stream = new Writable({
      write(chunk, _encoding, callback) {
        chunks.push(String(chunk));
        callback();
      },
    });
    services = await openServices(config, pino({ level: 'info' }, stream), {
      database: await createTestDatabase(),
    });
    app = createApp(services);
  });
  afterAll(async () => {
    await services.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('logs every request without a token, a secret or a created key', async () => {
    await request(app)
      .post('/api/v1/institutions')
      .set(admin)
      .send({ code: 'QZRCB01', name: '晋江农村商业银行', type: 'rural_commercial_bank', county: '晋江市' })
      .expect(201);

    const adminKey = await request(app)
      .post('/api/v1/keys')
      .set(admin)
      .send({ name: 'ops', role: 'admin' })
      .expect(201);
    const institutionKey = await request(app)
      .post('/api/v1/keys')
      .set(admin)
      .send({ name: '晋江农商行报送', role: 'institution', institution: 'QZRCB01' })
      .expect(201);
    const adminKeyToken: string = adminKey.body.token;
    const institutionToken: string = institutionKey.body.token;
    expect(adminKeyToken).toMatch(/^rw_/);
    expect(institutionToken).toMatch(/^rw_/);
    secrets.push(adminKeyToken, institutionToken);
    const asInstitution = { Authorization: `Bearer ${institutionToken}` };
    const asAdminKey = { Authorization: `Bearer ${adminKeyToken}` };

    await request(app)
      .post('/api/v1/submissions')
      .set(asInstitution)
      .attach(
        'file',
        Buffer.from('institution,period,metric,value\nQZRCB01,2024-06,npl_ratio,6.2\n'),
        'npl.csv',
      )
      .expect(201);
    await request(app)
      .post('/api/v1/submissions')
      .set(asInstitution)
      .attach(
        'file',
        Buffer.from('institution,period,metric,value\nQZRCB01,2024-6,npl_ratio,high\n'),
        'bad.csv',
      )
      .expect(422);
    await request(app).get('/api/v1/keys').set(asAdminKey).expect(200);
    await request(app).get('/api/v1/alerts').set(asInstitution).expect(200);
    await request(app)
      .get('/api/v1/alerts')
      .set({ Authorization: `Bearer ${secrets[3]}` })
      .expect(401);
    await request(app).get('/api/v1/keys').set(asInstitution).expect(403);
    await request(app)
      .get('/metrics')
      .set({ Authorization: `Bearer ${METRICS_TOKEN}` })
      .expect(200);

    // A 500: the alerts table goes missing under a request, then comes back.
    await sql`ALTER TABLE alerts RENAME TO alerts_away`.execute(services.db);
    try {
      await request(app).get('/api/v1/alerts').set(asAdminKey).expect(500);
    } finally {
      await sql`ALTER TABLE alerts_away RENAME TO alerts`.execute(services.db);
    }
    await services.dispatcher.kick();
    await services.dispatcher.idle();

    const text = logText();
    for (const secret of secrets) expect(text).not.toContain(secret);

    const lines = logLines();
    const requests = lines.filter((l) => l.req && l.res);
    const seen = requests.map((l) => `${l.req?.method} ${l.req?.url} ${l.res?.statusCode}`);
    expect(seen).toEqual(
      expect.arrayContaining([
        'POST /api/v1/institutions 201',
        'POST /api/v1/keys 201',
        'POST /api/v1/submissions 201',
        'POST /api/v1/submissions 422',
        'GET /api/v1/keys 200',
        'GET /api/v1/alerts 401',
        'GET /api/v1/keys 403',
        'GET /api/v1/alerts 500',
      ]),
    );
    // The header was there to log, and was censored.
    for (const l of requests) expect(l.req?.headers.authorization).toBe('[redacted]');
    expect(lines.find((l) => l.msg === 'unhandled error')?.err?.message).toMatch(/alerts/);
  });
});
