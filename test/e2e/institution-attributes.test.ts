import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createTestService, type TestService } from '../support/service.js';

const auth = { Authorization: `Bearer ${ADMIN}` };
const government = {
  code: 'QZFG-GOV',
  name: '泉州市融资担保（测试）',
  type: 'financing_guarantee',
  county: '市本级',
  attributes: { government_backed: true },
};
const commercial = {
  code: 'QZFG-COM',
  name: '石狮融资担保（测试）',
  type: 'financing_guarantee',
  county: '石狮市',
};

describe('institution attributes through HTTP', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await createTestService();
  });
  afterAll(async () => t.close());

  const upload = (csv: string) =>
    request(t.app)
      .post('/api/v1/submissions')
      .set(auth)
      .attach('file', Buffer.from(`institution,period,metric,value\n${csv}`), 'leverage.csv')
      .expect(201);
  const firing = async () =>
    (await request(t.app).get('/api/v1/alerts?state=firing').set(auth).expect(200)).body.alerts.map(
      (a: { rule: string; institution: string }) => `${a.rule} ${a.institution}`,
    );

  it('lists the declared attributes in the catalog', async () => {
    const res = await request(t.app).get('/api/v1/catalog').set(auth).expect(200);
    expect(res.body.institution_attributes).toContainEqual({
      code: 'government_backed',
      name: { zh: '政府性融资担保机构', en: 'Government-backed guarantee firm' },
      types: ['financing_guarantee'],
      value: 'boolean',
    });
  });

  it('refuses undeclared attributes, attributes of another type and non-boolean values, storing nothing', async () => {
    const res = await request(t.app)
      .post('/api/v1/institutions')
      .set(auth)
      .send([
        { ...commercial, attributes: { goverment_backed: true } },
        { ...commercial, code: 'QZML-X', type: 'microloan', attributes: { government_backed: true } },
        { ...commercial, code: 'QZFG-X', attributes: { small_micro_focused: 'yes' } },
      ])
      .expect(422);
    expect(res.body.code).toBe('invalid_institution');
    expect(
      res.body.errors.map((e: { row: number; code: string; field: string }) => [e.row, e.code, e.field]),
    ).toEqual([
      [1, 'unknown_attribute', 'attributes.goverment_backed'],
      [2, 'attribute_not_for_type', 'attributes.government_backed'],
      [3, 'invalid_attribute_value', 'attributes.small_micro_focused'],
    ]);
    const listed = await request(t.app).get('/api/v1/institutions').set(auth).expect(200);
    expect(listed.body.institutions).toEqual([]);
  });

  it('judges only the government-backed firm against the 5x target, and resolves once it is no longer one', async () => {
    await request(t.app).post('/api/v1/institutions').set(auth).send([government, commercial]).expect(201);
    const listed = await request(t.app)
      .get('/api/v1/institutions?type=financing_guarantee')
      .set(auth)
      .expect(200);
    const { institutions } = listed.body;
    expect(institutions.map((i: { code: string; attributes: object }) => [i.code, i.attributes])).toEqual([
      ['QZFG-COM', {}],
      ['QZFG-GOV', { government_backed: true }],
    ]);

    await upload('QZFG-GOV,2024-05,guarantee_leverage,3.2\nQZFG-COM,2024-05,guarantee_leverage,3.2\n');
    expect(await firing()).toEqual(['guarantee_leverage_target QZFG-GOV']);

    // Re-registered without the attribute: the next evaluation of the firm resolves the target's alert.
    await request(t.app)
      .post('/api/v1/institutions')
      .set(auth)
      .send({ ...government, attributes: {} })
      .expect(200);
    const next = await upload('QZFG-GOV,2024-06,guarantee_leverage,3.3\n');
    expect(next.body.alerts).toEqual([
      expect.objectContaining({
        kind: 'resolved',
        fingerprint: 'guarantee_leverage_target/QZFG-GOV/guarantee_leverage',
      }),
    ]);
    expect(await firing()).toEqual([]);
  });
});
