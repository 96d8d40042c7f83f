import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

  it('keeps the rules in force when the folder has a problem, and swaps them in once it is fixed', async () => {
    const before = (await request(t.app).get('/api/v1/rules').set(admin).expect(200)).body;
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

    fs.writeFileSync(file, good.replace(/threshold: 5\b/, 'threshold: 5.5'));
    const reloaded = await request(t.app).post('/api/v1/rules/reload').set(admin).expect(200);
    expect(reloaded.body).toMatchObject({ previous: before.hash, changed: true });
    const after = (await request(t.app).get('/api/v1/rules').set(admin).expect(200)).body;
    expect(after.hash).toBe(reloaded.body.hash);
    expect(after.last_reload_error).toBeNull();

    const audit = await t.db.db
      .selectFrom('audit_log')
      .select(['action', 'details'])
      .where('action', '=', 'rules.reload')
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.details.ok)).toEqual([false, true]);
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
