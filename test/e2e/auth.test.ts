import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createTestService, type TestService } from '../support/service.js';

const admin = { Authorization: `Bearer ${ADMIN}` };
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe('API keys and roles', () => {
  let t: TestService;
  let ownKey: string;
  let supervisorKey: string;
  beforeAll(async () => {
    t = await createTestService();
    await request(t.app)
      .post('/api/v1/institutions')
      .set(admin)
      .send([
        { code: 'B1', name: '一号银行', type: 'village_bank', county: '鲤城区' },
        { code: 'B2', name: '二号银行', type: 'village_bank', county: '丰泽区' },
      ])
      .expect(201);
    ownKey = (
      await request(t.app)
        .post('/api/v1/keys')
        .set(admin)
        .send({ name: 'b1 filer', role: 'institution', institution: 'B1' })
        .expect(201)
    ).body.token;
    supervisorKey = (
      await request(t.app)
        .post('/api/v1/keys')
        .set(admin)
        .send({ name: 'sup', role: 'supervisor' })
        .expect(201)
    ).body.token;
    for (const [code, value] of [
      ['B1', 7],
      ['B2', 8],
    ] as const) {
      await request(t.app)
        .post('/api/v1/submissions')
        .set(admin)
        .send({ institution: code, period: '2024-06', values: { npl_ratio: value } })
        .expect(201);
    }
  });
  afterAll(async () => t.close());

  it('answers 401 without a key or with an unknown one, as problem+json', async () => {
    const none = await request(t.app).get('/api/v1/alerts').expect(401);
    expect(none.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(none.body).toMatchObject({ status: 401, code: 'unauthorized' });
    await request(t.app).get('/api/v1/alerts').set(bearer('rw_nope')).expect(401);
  });

  it('stores keys hashed and never lists their secret', async () => {
    const rows = await t.db.db.selectFrom('api_keys').selectAll().execute();
    for (const row of rows) {
      expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
      expect([ownKey, supervisorKey]).not.toContain(row.token_hash);
    }
    const listed = await request(t.app).get('/api/v1/keys').set(admin).expect(200);
    expect(JSON.stringify(listed.body)).not.toContain(ownKey.slice(10));
    expect(listed.body.keys).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'b1 filer', role: 'institution', institution: 'B1' }),
      ]),
    );
  });

  it('shows an institution key only its own institution', async () => {
    const alerts = await request(t.app).get('/api/v1/alerts').set(bearer(ownKey)).expect(200);
    expect(alerts.body.alerts.map((a: { institution: string }) => a.institution)).toEqual(['B1']);
    await request(t.app).get('/api/v1/alerts?institution=B2').set(bearer(ownKey)).expect(403);
    const institutions = await request(t.app).get('/api/v1/institutions').set(bearer(ownKey)).expect(200);
    expect(institutions.body.institutions.map((i: { code: string }) => i.code)).toEqual(['B1']);
    const others = await request(t.app).get('/api/v1/submissions?institution=B2').set(bearer(ownKey));
    expect(others.status).toBe(403);
    const b2 = await request(t.app).get('/api/v1/submissions?institution=B2').set(admin).expect(200);
    await request(t.app)
      .get(`/api/v1/submissions/${b2.body.submissions[0].id}`)
      .set(bearer(ownKey))
      .expect(404);
    const b2Alert = (await request(t.app).get('/api/v1/alerts?institution=B2').set(admin)).body.alerts[0];
    await request(t.app).get(`/api/v1/alerts/${b2Alert.id}`).set(bearer(ownKey)).expect(404);
  });

  it('lets an institution key upload for itself only, storing nothing otherwise', async () => {
    const before = await t.db.db
      .selectFrom('submissions')
      .select(({ fn }) => fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const res = await request(t.app)
      .post('/api/v1/submissions')
      .set(bearer(ownKey))
      .send({ institution: 'B2', period: '2024-07', values: { npl_ratio: 1 } })
      .expect(422);
    expect(res.body.errors).toEqual([expect.objectContaining({ code: 'institution_not_allowed' })]);
    const after = await t.db.db
      .selectFrom('submissions')
      .select(({ fn }) => fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
    await request(t.app)
      .post('/api/v1/submissions')
      .set(bearer(ownKey))
      .send({ institution: 'B1', period: '2024-07', values: { npl_ratio: 1 } })
      .expect(201);
  });

  it('keeps supervisors from admin routes, but lets them import files for any institution', async () => {
    await request(t.app).get('/api/v1/alerts').set(bearer(supervisorKey)).expect(200);
    await request(t.app)
      .post('/api/v1/keys')
      .set(bearer(supervisorKey))
      .send({ name: 'x', role: 'admin' })
      .expect(403);
    await request(t.app).post('/api/v1/institutions').set(bearer(supervisorKey)).send({}).expect(403);
    await request(t.app)
      .post('/api/v1/submissions')
      .set(bearer(supervisorKey))
      .send({ institution: 'B1', period: '2024-08', values: { npl_ratio: 1 } })
      .expect(201);
  });

  it('refuses a revoked key at once, and audits creation and revocation', async () => {
    const created = await request(t.app)
      .post('/api/v1/keys')
      .set(admin)
      .send({ name: 'temp', role: 'supervisor' })
      .expect(201);
    await request(t.app).get('/api/v1/alerts').set(bearer(created.body.token)).expect(200);
    await request(t.app).delete(`/api/v1/keys/${created.body.id}`).set(admin).expect(204);
    await request(t.app).get('/api/v1/alerts').set(bearer(created.body.token)).expect(401);
    await request(t.app).delete(`/api/v1/keys/${created.body.id}`).set(admin).expect(404);
    const audit = await t.db.db
      .selectFrom('audit_log')
      .select(['action', 'target'])
      .where('target', '=', created.body.id)
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.action)).toEqual(['keys.create', 'keys.revoke']);
    const everything = JSON.stringify(await t.db.db.selectFrom('audit_log').selectAll().execute());
    expect(everything).not.toContain(created.body.token);
  });

  it('validates key and institution requests with every problem listed', async () => {
    const key = await request(t.app)
      .post('/api/v1/keys')
      .set(admin)
      .send({ name: '', role: 'institution' })
      .expect(422);
    expect(key.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['institution', 'name']);
    const inst = await request(t.app)
      .post('/api/v1/institutions')
      .set(admin)
      .send({ code: 'X1', name: 'x', type: 'bank', county: 'Atlantis', credit_code: '9144030071526726XA' })
      .expect(422);
    expect(inst.body.errors.map((e: { code: string }) => e.code)).toEqual([
      'unknown_institution_type',
      'unknown_county',
      'invalid_credit_code',
    ]);
  });
});
