import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { evaluateAll } from '../../../src/alerts/evaluation.full.js';
import { evaluateInstitutions } from '../../../src/alerts/evaluation.service.js';
import type { LoadedRules } from '../../../src/rules/rules.runtime.js';
import { shippedRules } from '../../support/catalog.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/** An instant given as a wall-clock time in Quanzhou (UTC+8): `2024-07-16 00:00`. */
const quanzhou = (text: string) => new Date(`${text.replace(' ', 'T')}:00+08:00`);

describe('missing filings on a real database', () => {
  let t: TestDatabase;
  let rules: LoadedRules;
  beforeAll(async () => {
    t = await createTestDatabase();
    rules = shippedRules();
  });
  afterAll(async () => t.close());
  beforeEach(async () => t.truncate());

  /** An institution registered at `createdAt`, optionally with the day it was established. */
  const institution = async (
    code: string,
    type: string,
    createdAt: string,
    establishedOn: string | null = null,
  ) => {
    await t.db
      .insertInto('institutions')
      .values({
        code,
        name: `${code}号机构`,
        type,
        county: '晋江市',
        credit_code: null,
        established_on: establishedOn,
      })
      .execute();
    // created_at is the database's to set; a test moves it back to place the institution in time.
    await sql`UPDATE institutions SET created_at = ${createdAt} WHERE code = ${code}`.execute(t.db);
  };

  /** A current submission for (institution, period), as an upload stores it; returns its id. */
  const submit = async (code: string, period: string, at: Date) => {
    const upload = await t.db
      .insertInto('uploads')
      .values({
        file_sha256: 'x',
        format: 'json',
        row_count: 1,
        uploaded_by: 'test',
        file_name: null,
        created_at: at,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const submission = await t.db
      .insertInto('submissions')
      .values({ upload_id: upload.id, institution_code: code, period, version: 1, created_at: at })
      .returning('id')
      .executeTakeFirstOrThrow();
    return submission.id;
  };

  const activeAlerts = async () =>
    (
      await t.db
        .selectFrom('alerts')
        .select(['fingerprint', 'metric', 'value', 'threshold'])
        .where('state', '=', 'firing')
        .where('metric', 'like', 'filing:%')
        .orderBy('fingerprint')
        .execute()
    ).map((a) => `${a.fingerprint} ${a.metric} ${a.value}d>${a.threshold}`);

  it('fires once a deadline has passed and resolves when the submission arrives', async () => {
    await institution('B1', 'rural_commercial_bank', '2024-03-05T02:00:00Z');

    // 23:59 on 15 July in Quanzhou: June is not due yet; March to May and the first quarter are.
    expect(await evaluateAll(t.db, () => rules, quanzhou('2024-07-15 23:59'))).toBe(4);
    expect(await activeAlerts()).toEqual([
      'bank_monthly_filing_missing/B1/2024-03 filing:monthly 91d>0',
      'bank_monthly_filing_missing/B1/2024-04 filing:monthly 61d>0',
      'bank_monthly_filing_missing/B1/2024-05 filing:monthly 30d>0',
      'bank_quarterly_filing_missing/B1/2024-Q1 filing:quarterly 76d>0',
    ]);

    // At midnight June is late too; March has left the window but is still missing.
    await evaluateAll(t.db, () => rules, quanzhou('2024-07-16 00:00'));
    expect(await activeAlerts()).toEqual([
      'bank_monthly_filing_missing/B1/2024-03 filing:monthly 92d>0',
      'bank_monthly_filing_missing/B1/2024-04 filing:monthly 62d>0',
      'bank_monthly_filing_missing/B1/2024-05 filing:monthly 31d>0',
      'bank_monthly_filing_missing/B1/2024-06 filing:monthly 1d>0',
      'bank_quarterly_filing_missing/B1/2024-Q1 filing:quarterly 77d>0',
    ]);

    // June arrives: the evaluation that follows an upload resolves its alert.
    const arrived = quanzhou('2024-07-16 09:30');
    const submissionId = await submit('B1', '2024-06', arrived);
    const recorded = await t.db
      .transaction()
      .execute((trx) => evaluateInstitutions(trx, rules, ['B1'], arrived, 'uploader'));
    // (The submission here holds no value at all: the missing-data rule also sees a June filing without
    // the NPL ratio. Only the filing alerts are this test's business.)
    const filing = recorded.filter((r) => r.transition.alert.metric.startsWith('filing:'));
    expect(filing.map((r) => `${r.transition.kind} ${r.transition.alert.period}`)).toEqual([
      'resolved 2024-06',
    ]);
    const june = await t.db
      .selectFrom('alerts')
      .selectAll()
      .where('fingerprint', '=', 'bank_monthly_filing_missing/B1/2024-06')
      .executeTakeFirstOrThrow();
    expect(june).toMatchObject({
      state: 'resolved',
      submission_id: submissionId,
      value: 1,
      period: '2024-06',
    });
    expect(await activeAlerts()).toHaveLength(4);

    // The same data again changes nothing.
    expect(await evaluateAll(t.db, () => rules, arrived)).toBe(0);

    // E-mails: a firing and a resolved one for June, saying when it was due.
    const outbox = await t.db
      .selectFrom('notification_items as o')
      .innerJoin('alerts as a', 'a.id', 'o.alert_id')
      .select(['o.payload', 'o.route'])
      .where('a.fingerprint', '=', 'bank_monthly_filing_missing/B1/2024-06')
      .where('o.route', '=', 'banks')
      .orderBy('o.id')
      .execute();
    expect(outbox.map((o) => o.payload)).toEqual([
      expect.objectContaining({
        kind: 'firing',
        severity: 'warning',
        metric: { code: 'filing:monthly', name: { zh: '月度数据报送', en: 'Monthly filing' }, unit: '' },
        value: 1,
        threshold: 0,
        filing: { frequency: 'monthly', dueDate: '2024-07-15' },
      }),
      expect.objectContaining({ kind: 'resolved', filing: { frequency: 'monthly', dueDate: '2024-07-15' } }),
    ]);
  });

  it('expects nothing for periods that ended before an institution was established or registered', async () => {
    await institution('OLD', 'village_bank', '2020-01-01T00:00:00Z');
    await institution('EST', 'village_bank', '2020-01-01T00:00:00Z', '2024-06-20');
    await institution('NEW', 'village_bank', '2024-07-10T02:00:00Z');
    await institution('PAWN', 'pawn', '2024-06-01T02:00:00Z');
    await evaluateAll(t.db, () => rules, quanzhou('2024-07-16 00:00'));
    const byInstitution = await t.db
      .selectFrom('alerts')
      .select(['institution_code', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('institution_code')
      .orderBy('institution_code')
      .execute();
    expect(byInstitution.map((r) => [r.institution_code, Number(r.n)])).toEqual([
      ['EST', 1], // June only
      ['OLD', 5], // April to June, 2023-Q4 and 2024-Q1
      ['PAWN', 1], // June, under the quasi-financial rule
    ]);
  });

  it('judges hundreds of institutions in one evaluation run, filed or not', async () => {
    const codes = Array.from({ length: 300 }, (_, i) => `M${String(i).padStart(3, '0')}`);
    await t.db
      .insertInto('institutions')
      .values(
        codes.map((code) => ({ code, name: code, type: 'microloan', county: '南安市', credit_code: null })),
      )
      .execute();
    await sql`UPDATE institutions SET created_at = '2024-01-01T00:00:00Z'`.execute(t.db);
    // Every other one filed April to June.
    const at = quanzhou('2024-07-01 10:00');
    for (const code of codes.filter((_, i) => i % 2 === 0))
      for (const period of ['2024-04', '2024-05', '2024-06']) await submit(code, period, at);
    await evaluateAll(t.db, () => rules, quanzhou('2024-07-16 00:00'));
    // The filing alerts (the empty filings also lack the funding split the missing-data rule watches).
    const filing = await t.db
      .selectFrom('alerts')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('metric', 'like', 'filing:%')
      .where('state', '=', 'firing')
      .executeTakeFirstOrThrow();
    expect(Number(filing.n)).toBe(150 * 3);
  });
});
