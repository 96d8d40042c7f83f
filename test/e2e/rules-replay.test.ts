import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/schema.js';
import { ADMIN, createTestService, type TestService } from '../support/service.js';

const admin = { Authorization: `Bearer ${ADMIN}` };

/** Tables a replay must leave exactly as they were: alerts, their history, e-mails, the audit log. */
const UNTOUCHED = [
  'alerts',
  'alert_events',
  'notification_outbox',
  'audit_log',
] as const satisfies readonly (keyof Database)[];

describe('POST /api/v1/rules/replay', () => {
  let t: TestService;
  let supervisor: { Authorization: string };
  let institution: { Authorization: string };
  const tables = async () =>
    Object.fromEntries(
      await Promise.all(
        UNTOUCHED.map(async (table) => [
          table,
          await t.db.db.selectFrom(table).selectAll().orderBy('id').execute(),
        ]),
      ),
    );
  const replay = (body: object, who = supervisor) =>
    request(t.app).post('/api/v1/rules/replay').set(who).send(body);

  beforeAll(async () => {
    t = await createTestService();
    await request(t.app)
      .post('/api/v1/institutions')
      .set(admin)
      .send([
        { code: 'B1', name: '一号农商行', type: 'rural_commercial_bank', county: '晋江市' },
        { code: 'B2', name: '二号村镇银行', type: 'village_bank', county: '安溪县' },
      ])
      .expect(201);
    // B1 drifts above the 4% warning level in March, past the 5% limit in April, and recovers in June far
    // enough that its six-month line no longer reaches 5% (bank_npl_ratio_projection stays quiet).
    const npl: Record<string, number[]> = { B1: [3.1, 3.4, 4.4, 5.2, 5.1, 3], B2: [2, 2, 2, 2, 2, 2] };
    for (const [code, values] of Object.entries(npl))
      for (const [i, value] of values.entries())
        await request(t.app)
          .post('/api/v1/submissions')
          .set(admin)
          .send({ institution: code, period: `2024-0${i + 1}`, values: { npl_ratio: value } })
          .expect(201);
    const key = async (body: object) =>
      `Bearer ${(await request(t.app).post('/api/v1/keys').set(admin).send(body).expect(201)).body.token}`;
    supervisor = { Authorization: await key({ name: 's', role: 'supervisor' }) };
    institution = { Authorization: await key({ name: 'i', role: 'institution', institution: 'B1' }) };
  });
  afterAll(async () => t.close());

  it('answers what each month would have seen, and writes nothing at all', async () => {
    // The uploads' own e-mails go out in the background: let them settle before taking the picture.
    await t.services.dispatcher.idle();
    const before = await tables();
    const { body } = await replay({ from: '2024-01', to: '2024-06' }).expect(200);
    expect(body).toMatchObject({
      rules_hash: (await request(t.app).get('/api/v1/rules').set(admin)).body.hash,
      from: '2024-01',
      to: '2024-06',
      institutions: 2,
      initial: [],
      final: [],
      totals: { firing: 1, escalated: 1, updated: 1, resolved: 1 },
    });
    expect(body.rules).toContain('bank_npl_ratio');
    expect(body.skipped_rules.map((s: { rule: string }) => s.rule)).toContain('bank_monthly_filing_missing');
    const steps = body.timeline.map((s: { period: string; transitions: Record<string, unknown>[] }) => [
      s.period,
      s.transitions.map(
        (x) => `${x.kind} ${x.rule} ${x.institution} ${x.severity} ${x.value}>${x.threshold}`,
      ),
    ]);
    expect(steps).toEqual([
      ['2024-01', []],
      ['2024-02', []],
      ['2024-03', ['firing bank_npl_ratio B1 warning 4.4>4']],
      ['2024-04', ['escalated bank_npl_ratio B1 critical 5.2>5']],
      ['2024-05', ['updated bank_npl_ratio B1 critical 5.1>5']],
      ['2024-06', ['resolved bank_npl_ratio B1 critical 3>5']],
    ]);
    expect(await tables()).toEqual(before);
  });

  it('replays only the institutions named', async () => {
    const { body } = await replay({ from: '2024-03', to: '2024-03', institutions: ['B2'] }).expect(200);
    expect(body.institutions).toBe(1);
    expect(body.timeline).toEqual([{ period: '2024-03', transitions: [], errors: [] }]);
  });

  it('is for supervisors and admins', async () => {
    await replay({ from: '2024-01', to: '2024-02' }, { Authorization: `Bearer ${ADMIN}` }).expect(200);
    await replay({ from: '2024-01', to: '2024-02' }, institution).expect(403);
  });

  it('names every problem of a bad body, and unknown institutions', async () => {
    const bad = await replay({ from: '2024-13', to: '2024-01', rules: 'x' }).expect(422);
    expect(bad.body.code).toBe('invalid_body');
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['', 'from']);
    const backwards = await replay({ from: '2024-06', to: '2024-01' }).expect(422);
    expect(backwards.body.errors).toEqual([
      { code: 'invalid_body', path: 'to', message: 'must not come before from' },
    ]);
    const unknown = await replay({ from: '2024-01', to: '2024-01', institutions: ['B1', 'NOPE'] }).expect(
      422,
    );
    expect(unknown.body).toMatchObject({
      code: 'unknown_institution',
      errors: [{ code: 'unknown_institution', path: 'institutions.1', value: 'NOPE' }],
    });
  });

  it('refuses more months or institutions than a replay covers, naming the limit', async () => {
    const months = await replay({ from: '2021-01', to: '2024-01' }).expect(422);
    expect(months.body).toMatchObject({
      code: 'replay_too_large',
      detail: '2021-01 to 2024-01 is 37 months; a replay covers at most 36',
      errors: [{ code: 'too_many_periods', field: 'to', limit: { name: 'periods', value: 36 } }],
    });
    const named = Array.from({ length: 501 }, (_, i) => `N${i}`);
    const many = await replay({ from: '2024-01', to: '2024-01', institutions: named }).expect(422);
    expect(many.body.errors).toMatchObject([
      { code: 'too_many_institutions', field: 'institutions', limit: { name: 'institutions', value: 500 } },
    ]);

    await request(t.app)
      .post('/api/v1/institutions')
      .set(admin)
      .send(
        Array.from({ length: 499 }, (_, i) => ({
          code: `X${i}`,
          name: `X${i}`,
          type: 'pawn',
          county: '鲤城区',
        })),
      )
      .expect(201);
    const all = await replay({ from: '2024-01', to: '2024-01' }).expect(422);
    expect(all.body).toMatchObject({
      code: 'replay_too_large',
      detail: '501 institutions are registered; name at most 500 in institutions',
    });
  });
});
