import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { ADMIN, createTestService, type TestService } from '../support/service.js';

const admin = { Authorization: `Bearer ${ADMIN}` };

describe('POST /api/v1/rules/reload', () => {
  let t: TestService;
  let rulesDir: string;
  beforeAll(async () => {
    rulesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'riskwatch-rules-'));
    fs.cpSync('rules', rulesDir, { recursive: true });
    t = await createTestService({ RULES_DIR: rulesDir });
  });
  afterAll(async () => {
    await t.close();
    fs.rmSync(rulesDir, { recursive: true, force: true });
  });

  const scrape = async () => parsePrometheusText((await request(t.app).get('/metrics').expect(200)).text);

  it('keeps the rules in force when the folder has a problem, and swaps them in once it is fixed', async () => {
    const before = (await request(t.app).get('/api/v1/rules').set(admin).expect(200)).body;
    expect(before.hash).toMatch(/^[0-9a-f]{64}$/);
    const atStart = await scrape();
    expect(sampleValue(atStart, 'riskwatch_rules_loaded_info', { hash: before.hash })).toBe(1);
    expect(sampleValue(atStart, 'riskwatch_rules_last_reload_successful')).toBe(1);
    expect(sampleValue(atStart, 'riskwatch_rules_last_reload_success_timestamp_seconds')).toBe(
      Date.parse(before.loaded_at) / 1000,
    );
    expect(sampleValue(atStart, 'riskwatch_rules_reloads_total', { result: 'success' })).toBe(0);
    expect(sampleValue(atStart, 'riskwatch_rules_reloads_total', { result: 'failure' })).toBe(0);
    const file = path.join(rulesDir, 'bank.rules.yaml');
    const good = fs.readFileSync(file, 'utf8');

    fs.writeFileSync(file, good.replace('metric: npl_ratio', 'metric: npl_ratoi'));
    const refused = await request(t.app).post('/api/v1/rules/reload').set(admin).expect(422);
    expect(refused.body.code).toBe('invalid_rules');
    expect(refused.body.errors[0]).toMatchObject({
      field: file,
      message: expect.stringContaining('npl_ratoi'),
    });
    const during = (await request(t.app).get('/api/v1/rules').set(admin).expect(200)).body;
    expect(during.hash).toBe(before.hash);
    expect(during.last_reload_error.problems.length).toBeGreaterThan(0);
    const afterFailure = await scrape();
    expect(sampleValue(afterFailure, 'riskwatch_rules_loaded_info', { hash: before.hash })).toBe(1);
    expect(sampleValue(afterFailure, 'riskwatch_rules_last_reload_successful')).toBe(0);
    expect(sampleValue(afterFailure, 'riskwatch_rules_reloads_total', { result: 'failure' })).toBe(1);

    fs.writeFileSync(file, good.replace(/threshold: 5\b/, 'threshold: 5.5'));
    const reloaded = await request(t.app).post('/api/v1/rules/reload').set(admin).expect(200);
    expect(reloaded.body).toMatchObject({ previous: before.hash, changed: true });
    const after = (await request(t.app).get('/api/v1/rules').set(admin).expect(200)).body;
    expect(after.hash).toBe(reloaded.body.hash);
    expect(after.last_reload_error).toBeNull();
    expect(Date.parse(after.loaded_at)).toBeGreaterThanOrEqual(Date.parse(before.loaded_at));
    const afterSuccess = await scrape();
    // One series only: the old hash is gone, not left behind at 1.
    expect(afterSuccess.filter((s) => s.name === 'riskwatch_rules_loaded_info')).toEqual([
      { name: 'riskwatch_rules_loaded_info', labels: { hash: after.hash }, value: 1 },
    ]);
    expect(sampleValue(afterSuccess, 'riskwatch_rules_last_reload_successful')).toBe(1);
    expect(sampleValue(afterSuccess, 'riskwatch_rules_last_reload_success_timestamp_seconds')).toBe(
      Date.parse(after.loaded_at) / 1000,
    );
    expect(sampleValue(afterSuccess, 'riskwatch_rules_reloads_total', { result: 'success' })).toBe(1);

    const audit = await t.db.db
      .selectFrom('audit_log')
      .select(['actor', 'action', 'details'])
      .where('action', '=', 'rules.reload')
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.details.ok)).toEqual([false, true]);
    expect(audit[1]).toMatchObject({ actor: 'admin-token', details: { from: before.hash, to: after.hash } });
  });

  it('is for admins only', async () => {
    const created = await request(t.app)
      .post('/api/v1/keys')
      .set(admin)
      .send({ name: 's', role: 'supervisor' })
      .expect(201);
    await request(t.app)
      .post('/api/v1/rules/reload')
      .set({ Authorization: `Bearer ${created.body.token}` })
      .expect(403);
  });
});
