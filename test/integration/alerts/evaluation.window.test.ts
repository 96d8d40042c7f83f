import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateEveryInstitution, pruneEvaluationRuns } from '../../../src/alerts/evaluation.full.js';
import type { Principal } from '../../../src/auth/api-key.js';
import { submitObservations } from '../../../src/ingest/submission.service.js';
import { saveInstitutions } from '../../../src/institutions/institution.service.js';
import type { LoadedRules } from '../../../src/rules/rules.runtime.js';
import { shippedRules } from '../../support/catalog.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

const admin: Principal = { keyId: 'k', name: 'tester', role: 'admin', institution: null, email: null };
/** The evaluation instant of month m of 2024: the 20th of the next month, after its deadline. */
const evaluatedAfter = (m: number) => new Date(Date.UTC(2024, m, 20, 2));

const BANKS = ['B1', 'B2', 'B3', 'B4'];

/** NPL ratio (%) of each bank by month: B1 drifts into breach, B2 jumps and recovers, B3 is quiet. */
const NPL: Record<string, number[]> = {
  B1: [2.0, 2.4, 2.9, 3.3, 3.8, 4.3, 4.9, 5.6],
  B2: [1.5, 1.6, 1.5, 3.1, 1.4, 1.5, 1.6, 1.5],
  B3: [1.2, 1.2, 1.3, 1.2, 1.2, 1.1, 1.2, 1.3],
  B4: [3.0, 3.2, 4.4, 4.6, 3.9, 4.2, 3.8, 4.5],
};
/** Capital adequacy (%) by quarter: B1 declines three quarters running. */
const CAR: Record<string, number[]> = {
  B1: [14, 13.5, 13],
  B2: [14, 14, 14.2],
  B3: [13, 13, 13],
  B4: [12, 11, 12],
};

async function setUp(t: TestDatabase, rules: LoadedRules) {
  await saveInstitutions(
    t.db,
    rules.catalog,
    BANKS.map((code) => ({ code, name: `${code} 农商行`, type: 'rural_commercial_bank', county: '南安市' })),
    'test',
  );
}

function upload(t: TestDatabase, rules: LoadedRules, rows: [string, string, string, number][], now: Date) {
  return submitObservations(
    { db: t.db, snapshot: () => rules },
    rows.map(([institution, period, metric, value], i) => ({
      institution: { text: institution, row: i + 2, field: 'institution' },
      period: { text: period, row: i + 2, field: 'period' },
      metric: { text: metric, row: i + 2, field: 'metric' },
      value: { text: String(value), row: i + 2, field: 'value' },
    })),
    { fileName: null, bytes: Buffer.from(JSON.stringify(rows)), format: 'json', rowCount: rows.length },
    admin,
    now,
  );
}

function monthRows(m: number): [string, string, string, number][] {
  const period = `2024-${String(m).padStart(2, '0')}`;
  // B3 stops filing after May; the others file every month.
  return BANKS.filter((b) => b !== 'B3' || m <= 5).flatMap((b): [string, string, string, number][] => [
    [b, period, 'npl_balance', (NPL[b]?.[m - 1] ?? 1) * 100],
    [b, period, 'total_loans', 10_000],
    [b, period, 'loan_loss_reserves', (NPL[b]?.[m - 1] ?? 1) * 100 * 1.9],
    [b, period, 'liquidity_ratio', b === 'B2' && m === 7 ? 24 : 45],
  ]);
}

function quarterRows(q: number): [string, string, string, number][] {
  return BANKS.map((b): [string, string, string, number] => [
    b,
    `2024-Q${q}`,
    'capital_adequacy_ratio',
    CAR[b]?.[q - 1] ?? 13,
  ]);
}

/**
 * Months 1–7 uploaded (each upload evaluated over the whole history), then month 8 written without an
 * evaluation, as if by a process that stopped before evaluating; then the scheduled evaluation.
 */
async function play(t: TestDatabase, rules: LoadedRules, forceDeep: boolean) {
  await setUp(t, rules);
  for (let m = 1; m <= 7; m++) {
    await upload(t, rules, monthRows(m), evaluatedAfter(m));
    if (m % 3 === 0) await upload(t, rules, quarterRows(m / 3), evaluatedAfter(m));
  }
  const first = await evaluateEveryInstitution(t.db, () => rules, evaluatedAfter(7));
  await writeWithoutEvaluation(t, rules, monthRows(8));
  if (forceDeep) await t.db.deleteFrom('evaluation_runs').execute();
  const second = await evaluateEveryInstitution(t.db, () => rules, evaluatedAfter(8));
  const third = await evaluateEveryInstitution(t.db, () => rules, evaluatedAfter(8));
  return { first, second, third };
}

/**
 * Stores new periods' rows as an upload stores them (a current submission per institution and period,
 * the reported values and the ratios the catalog derives) but evaluates nothing: data a scheduled
 * evaluation is the first to judge.
 */
async function writeWithoutEvaluation(
  t: TestDatabase,
  rules: LoadedRules,
  rows: [string, string, string, number][],
) {
  const upload = await t.db
    .insertInto('uploads')
    .values({
      file_name: null,
      file_sha256: 'x'.repeat(64),
      format: 'json',
      row_count: rows.length,
      uploaded_by: 'test',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const groups = new Map<string, Record<string, number>>();
  for (const [institution, period, metric, value] of rows) {
    const key = `${institution}|${period}`;
    groups.set(key, { ...groups.get(key), [metric]: value });
  }
  for (const [key, reported] of groups) {
    const [institution, period] = key.split('|') as [string, string];
    const submission = await t.db
      .insertInto('submissions')
      .values({ upload_id: upload.id, institution_code: institution, period, version: 1, due_at: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    const derived = rules.catalog.derive('rural_commercial_bank', reported);
    await t.db
      .insertInto('observations')
      .values(
        [
          ...Object.entries(reported).map(([metric, value]) => ({ metric, value, derived: false })),
          ...Object.entries(derived).map(([metric, value]) => ({ metric, value, derived: true })),
        ].map((o) => ({ ...o, submission_id: submission.id, institution_code: institution, period })),
      )
      .execute();
  }
}

async function alerts(t: TestDatabase) {
  return t.db
    .selectFrom('alerts')
    .select([
      'fingerprint',
      'state',
      'severity',
      'value',
      'threshold',
      'period',
      'first_period',
      'periods',
      'summary',
    ])
    .orderBy('fingerprint')
    .orderBy('id')
    .execute();
}

async function events(t: TestDatabase) {
  const rows = await sql<{
    fingerprint: string;
    kind: string;
    to_state: string;
    severity: string;
    period: string;
  }>`
    SELECT a.fingerprint, e.kind, e.to_state, e.severity, e.period
    FROM alert_events e JOIN alerts a ON a.id = e.alert_id ORDER BY a.fingerprint, e.id`.execute(t.db);
  return rows.rows;
}

describe('the scheduled evaluation of every institution', () => {
  let windowed: TestDatabase;
  let deep: TestDatabase;
  let rules: LoadedRules;
  beforeAll(async () => {
    rules = shippedRules();
    [windowed, deep] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  });
  afterAll(async () => {
    await windowed.close();
    await deep.close();
  });

  it('reads a window once the rules are unchanged, and leaves exactly the alerts the whole history gives', async () => {
    const w = await play(windowed, rules, false);
    const d = await play(deep, rules, true);
    expect(w.first.mode).toBe('deep');
    expect(w.second.mode).toBe('window');
    expect(d.second.mode).toBe('deep');
    expect(w.second.transitions).toBeGreaterThan(0);
    expect(w.second.transitions).toBe(d.second.transitions);
    const after8 = await alerts(windowed);
    expect(after8).toEqual(await alerts(deep));
    // What August did: B1 crossed 5% (critical) and keeps drifting up; B2's liquidity recovered.
    const active = (a: (typeof after8)[number]) => a.state !== 'resolved';
    expect(after8.filter(active).map((a) => `${a.fingerprint} ${a.state}/${a.severity} ${a.period}`)).toEqual(
      expect.arrayContaining([
        'bank_npl_ratio/B1/npl_ratio firing/critical 2024-08',
        'bank_npl_ratio_projection/B1/npl_ratio firing/warning 2024-08',
        'bank_npl_ratio/B4/npl_ratio firing/warning 2024-08',
      ]),
    );
    expect(after8.find((a) => a.fingerprint === 'bank_liquidity_ratio/B2/liquidity_ratio')).toMatchObject({
      state: 'resolved',
      period: '2024-08',
    });
    expect(await events(windowed)).toEqual(await events(deep));
    // Evaluating again changes nothing, in either mode.
    expect(w.third).toMatchObject({ mode: 'window', transitions: 0 });
    expect(d.third).toMatchObject({ mode: 'window', transitions: 0 });
    const runs = await windowed.db
      .selectFrom('evaluation_runs')
      .select(['mode', 'rules_hash'])
      .orderBy('id')
      .execute();
    expect(runs).toEqual([
      { mode: 'deep', rules_hash: rules.hash },
      { mode: 'window', rules_hash: rules.hash },
      { mode: 'window', rules_hash: rules.hash },
    ]);
  });

  it('goes deep again after the rules change', async () => {
    const stricter = { ...rules, hash: 'f'.repeat(64) };
    const run = await evaluateEveryInstitution(windowed.db, () => stricter, evaluatedAfter(8));
    expect(run.mode).toBe('deep');
    expect((await evaluateEveryInstitution(windowed.db, () => stricter, evaluatedAfter(8))).mode).toBe(
      'window',
    );
  });

  it('prunes the records of old runs but keeps the latest, which the next run decides by', async () => {
    const stricter = { ...rules, hash: 'f'.repeat(64) };
    await pruneEvaluationRuns(windowed.db, new Date('2999-01-01'));
    expect(await windowed.db.selectFrom('evaluation_runs').select('mode').execute()).toEqual([
      { mode: 'window' },
    ]);
    expect((await evaluateEveryInstitution(windowed.db, () => stricter, evaluatedAfter(8))).mode).toBe(
      'window',
    );
  });
});
