import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createTestService, type TestService } from '../support/service.js';

const admin = { Authorization: `Bearer ${ADMIN}` };

describe('GET /api/v1/alerts/:id/events', () => {
  let t: TestService;
  let rulesDir: string;
  beforeAll(async () => {
    rulesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'riskwatch-rules-'));
    fs.cpSync('rules', rulesDir, { recursive: true });
    t = await createTestService({ RULES_DIR: rulesDir });
    await request(t.app)
      .post('/api/v1/institutions')
      .set(admin)
      .send({ code: 'B1', name: '一号农商行', type: 'rural_commercial_bank', county: '晋江市' })
      .expect(201);
  });
  afterAll(async () => {
    await t.close();
    fs.rmSync(rulesDir, { recursive: true, force: true });
  });

  const upload = (period: string, npl: number) =>
    request(t.app)
      .post('/api/v1/submissions')
      .set(admin)
      .send({ institution: 'B1', period, values: { npl_ratio: npl } })
      .expect(201);

  it('names the rule set of the evaluation behind each event, across a reload', async () => {
    const first = (await request(t.app).get('/api/v1/rules').set(admin).expect(200)).body.hash;
    const fired = await upload('2024-05', 6.2);
    const alertId = fired.body.alerts[0].id;

    // Raise the critical NPL level above 6.2%: the next evaluation de-escalates under the new rules.
    const file = path.join(rulesDir, 'bank.rules.yaml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/threshold: 5\b/, 'threshold: 6.5'));
    const second = (await request(t.app).post('/api/v1/rules/reload').set(admin).expect(200)).body.hash;
    expect(second).not.toBe(first);
    await upload('2024-06', 6.3);

    const { body } = await request(t.app).get(`/api/v1/alerts/${alertId}/events`).set(admin).expect(200);
    expect(body.events.map((e: Record<string, unknown>) => [e.period, e.kind, e.rules_hash])).toEqual([
      ['2024-05', 'firing', first],
      ['2024-06', 'deescalated', second],
    ]);
    const one = await request(t.app).get(`/api/v1/alerts/${alertId}`).set(admin).expect(200);
    expect(one.body.events).toEqual(body.events);
  });
});
