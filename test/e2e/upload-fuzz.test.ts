import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows } from '../support/database.js';
import { ADMIN, createTestService, type TestService } from '../support/service.js';

const admin = { Authorization: `Bearer ${ADMIN}` };

/** CSV-looking text built from the pieces real files are made of, in any order and amount. */
const csvish = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        'institution',
        'period',
        'metric',
        'value',
        '机构代码',
        '报告期',
        '不良贷款率',
        'npl_ratio',
        'total_loans',
      ),
      fc.constantFrom(
        'B1',
        'B2',
        '2024-06',
        '2024-Q2',
        '2024-13',
        '6.2',
        '-1',
        '1e400',
        '1,234',
        '5%',
        'NaN',
        '',
      ),
      fc.constantFrom(',', ',', ',', '\n', '\r\n', '"', '""', ' ', '\uFEFF', '\u0000'),
      fc.string({ maxLength: 8 }),
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(''));

/** Mostly `usual`, sometimes `unusual`. */
const often = <T>(usual: fc.Arbitrary<T>, unusual: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: usual, weight: 19 }, { arbitrary: unusual, weight: 1 });

/** A long-layout file whose rows are mostly valid, with the mistakes people make mixed in. */
const mostlyValid = fc
  .array(
    fc.tuple(
      often(fc.constant('B1'), fc.constantFrom('B2', ' B1 ', '')),
      often(fc.constantFrom('2024-06', '2024-05', '2024-04'), fc.constantFrom('2024-Q2', '2024-6')),
      often(
        fc.constantFrom('npl_ratio', 'npl_balance', 'total_loans', '不良贷款率'),
        fc.constantFrom('tier1_ratio', 'bogus'),
      ),
      often(
        fc.double({ min: 0, max: 100, noNaN: true }).map(String),
        fc.constantFrom('1,234', '5%', '', 'x', '1e400'),
      ),
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((rows) => ['institution,period,metric,value', ...rows.map((r) => r.join(','))].join('\n'));

describe('POST /api/v1/submissions under arbitrary input', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await createTestService();
    await request(t.app)
      .post('/api/v1/institutions')
      .set(admin)
      .send({ code: 'B1', name: '一号', type: 'village_bank', county: '鲤城区' })
      .expect(201);
  });
  afterAll(async () => t.close());

  const count = (table: 'uploads' | 'submissions' | 'observations') => countRows(t.db.db, table);
  const stored = async () => ({
    uploads: await count('uploads'),
    submissions: await count('submissions'),
    observations: await count('observations'),
  });

  it('answers every CSV-like file with a receipt or a located problem, never a 500, storing only what it accepts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(csvish, mostlyValid), async (text) => {
        const before = await stored();
        const res = await request(t.app)
          .post('/api/v1/submissions')
          .set(admin)
          .attach('file', Buffer.from(text), 'f.csv');
        // 200: the same bytes were accepted before (a replay); 415: NUL bytes make it binary.
        expect(text.includes('\u0000') ? [415, 422] : [200, 201, 422]).toContain(res.status);
        const after = await stored();
        if (res.status === 201) {
          expect(after.uploads).toBe(before.uploads + 1);
          expect(after.submissions).toBe(before.submissions + res.body.submissions_total);
          expect(after.observations).toBeGreaterThan(before.observations);
        } else {
          expect(after).toEqual(before);
        }
        if (res.status === 422) {
          expect(res.body.errors.length).toBeGreaterThan(0);
          for (const e of res.body.errors) expect(typeof e.code).toBe('string');
        }
      }),
      { numRuns: 200 },
    );
  });

  it('answers arbitrary bytes and arbitrary JSON without a 500', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
        const res = await request(t.app)
          .post('/api/v1/submissions')
          .set(admin)
          .attach('file', Buffer.from(bytes), 'f.csv');
        expect([200, 201, 415, 422]).toContain(res.status);
      }),
      { numRuns: 100 },
    );
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (body) => {
        const res = await request(t.app)
          .post('/api/v1/submissions')
          .set(admin)
          .set('Content-Type', 'application/json')
          .send(JSON.stringify(body));
        expect([200, 201, 400, 422]).toContain(res.status);
      }),
      { numRuns: 100 },
    );
  });
});
