import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { evaluateAll } from '../../../src/alerts/evaluation.full.js';
import { evaluateInstitutions } from '../../../src/alerts/evaluation.service.js';
import type { Principal } from '../../../src/auth/api-key.js';
import { submitObservations } from '../../../src/ingest/submission.service.js';
import { saveInstitutions } from '../../../src/institutions/institution.service.js';
import type { LoadedRules } from '../../../src/rules/rules.runtime.js';
import { shippedRules } from '../../support/catalog.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

const admin: Principal = { keyId: 'k', name: 'tester', role: 'admin', institution: null, email: null };
const at = (day: number) => new Date(Date.UTC(2024, 6, day, 2));

describe('evaluation on a real database', () => {
  let t: TestDatabase;
  let rules: LoadedRules;
  beforeAll(async () => {
    t = await createTestDatabase();
    rules = shippedRules();
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    await t.truncate();
    await saveInstitutions(
      t.db,
      rules.catalog,
      [{ code: 'B1', name: '一号农商行', type: 'rural_commercial_bank', county: '南安市' }],
      'test',
    );
  });

  const upload = (period: string, values: Record<string, number>, now: Date) =>
    submitObservations(
      { db: t.db, snapshot: () => rules },
      Object.entries(values).map(([metric, value], i) => ({
        institution: { text: 'B1', row: i + 2, field: 'institution' },
        period: { text: period, row: i + 2, field: 'period' },
        metric: { text: metric, row: i + 2, field: 'metric' },
        value: { text: String(value), row: i + 2, field: 'value' },
      })),
      { fileName: null, bytes: Buffer.from(JSON.stringify(values)), format: 'json', rowCount: 1 },
      admin,
      now,
    );

  const history = async () =>
    (
      await t.db
        .selectFrom('alert_events as e')
        .innerJoin('alerts as a', 'a.id', 'e.alert_id')
        .select(['a.metric', 'e.kind', 'e.to_state', 'e.severity', 'e.period'])
        .orderBy('e.id')
        .execute()
    ).map((e) => `${e.metric} ${e.period} ${e.kind}→${e.to_state}/${e.severity}`);

  it('records a timeline of alert states with events and notification items, and resolves on recovery', async () => {
    await upload('2024-04', { npl_balance: 45, total_loans: 1000 }, at(1));
    await upload('2024-05', { npl_balance: 52, total_loans: 1000 }, at(2));
    await upload('2024-06', { npl_balance: 38, total_loans: 1000 }, at(3));
    expect(await history()).toEqual([
      'npl_ratio 2024-04 firing→firing/warning',
      'npl_ratio 2024-05 escalated→firing/critical',
      'npl_ratio 2024-06 resolved→resolved/critical',
    ]);
    const items = await t.db.selectFrom('notification_items').select(['event_id', 'route']).execute();
    expect(items.length).toBeGreaterThanOrEqual(3);
    const hashes = await t.db.selectFrom('alert_events').select('rules_hash').distinct().execute();
    expect(hashes).toEqual([{ rules_hash: rules.hash }]);
    const alerts = await t.db.selectFrom('alerts').selectAll().execute();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ state: 'resolved', period: '2024-06', first_period: '2024-04' });
  });

  it('changes nothing when the same data is evaluated again', async () => {
    await upload('2024-06', { npl_balance: 62, total_loans: 1000 }, at(1));
    const before = await history();
    const outboxBefore = await t.db.selectFrom('notification_items').select('id').execute();
    const again = await t.db
      .transaction()
      .execute((trx) => evaluateInstitutions(trx, rules, ['B1'], at(5), 'test'));
    expect(again).toEqual([]);
    expect(await evaluateAll(t.db, () => rules, at(6))).toBe(0);
    expect(await history()).toEqual(before);
    expect(await t.db.selectFrom('notification_items').select('id').execute()).toEqual(outboxBefore);
  });

  it('opens a new alert after a resolved one, keeping the old one in history', async () => {
    await upload('2024-04', { npl_ratio: 6 }, at(1));
    await upload('2024-05', { npl_ratio: 1 }, at(2));
    await upload('2024-06', { npl_ratio: 7 }, at(3));
    // The threshold rule's alerts (June's jump from 1 to 7 also raises bank_npl_ratio_jump's).
    const alerts = await t.db
      .selectFrom('alerts')
      .select(['id', 'state', 'first_period'])
      .where('rule_id', '=', 'bank_npl_ratio')
      .orderBy('id')
      .execute();
    expect(alerts.map((a) => [a.state, a.first_period])).toEqual([
      ['resolved', '2024-04'],
      ['firing', '2024-06'],
    ]);
  });

  it('evaluates a resubmission, not the superseded version', async () => {
    await upload('2024-06', { npl_ratio: 6.2 }, at(1));
    await upload('2024-06', { npl_ratio: 1.2 }, at(2));
    const alerts = await t.db.selectFrom('alerts').select(['state', 'value']).execute();
    expect(alerts).toEqual([{ state: 'resolved', value: 1.2 }]);
  });

  it('serialises concurrent uploads for one institution and period into distinct versions', async () => {
    const receipts = await Promise.all([1, 2, 3, 4].map((n) => upload('2024-06', { npl_ratio: n }, at(n))));
    const versions = receipts.map((r) => r.submissions[0]?.version).sort();
    expect(versions).toEqual([1, 2, 3, 4]);
    const current = await t.db
      .selectFrom('submissions')
      .select('version')
      .where('is_current', '=', true)
      .execute();
    expect(current).toHaveLength(1);
  });
});

describe('concurrent uploads naming the same institutions in opposite orders', () => {
  let t: TestDatabase;
  let rules: LoadedRules;
  beforeAll(async () => {
    t = await createTestDatabase();
    rules = shippedRules();
    const codes = Array.from({ length: 30 }, (_, i) => `R${String(i).padStart(2, '0')}`);
    await saveInstitutions(
      t.db,
      rules.catalog,
      codes.map((code) => ({ code, name: code, type: 'village_bank', county: '德化县' })),
      'test',
    );
  });
  afterAll(async () => t.close());

  it('never deadlock: every upload is stored as its own version', async () => {
    const codes = Array.from({ length: 30 }, (_, i) => `R${String(i).padStart(2, '0')}`);
    const uploadFor = (order: string[], value: number) =>
      submitObservations(
        { db: t.db, snapshot: () => rules },
        order.map((code, i) => ({
          institution: { text: code, row: i + 2, field: 'institution' },
          period: { text: '2024-06', row: i + 2, field: 'period' },
          metric: { text: 'npl_ratio', row: i + 2, field: 'metric' },
          value: { text: String(value), row: i + 2, field: 'value' },
        })),
        { fileName: null, bytes: Buffer.from(String(value)), format: 'json', rowCount: order.length },
        admin,
        at(1),
      );
    const results = await Promise.allSettled(
      [1, 2, 3, 4, 5, 6].map((n) => uploadFor(n % 2 ? codes : [...codes].reverse(), n)),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const versions = await t.db
      .selectFrom('submissions')
      .select('version')
      .where('institution_code', '=', 'R00')
      .execute();
    expect(versions.map((v) => v.version).sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
