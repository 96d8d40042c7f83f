import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../../src/catalog/catalog.js';
import { buildDemoData } from '../../../src/demo/demo.data.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import {
  dashboardSchema,
  dataPanels,
  repoPath,
  substituteGrafanaVariables,
} from '../../unit/deploy/deploy.helpers.js';

/**
 * Runs the dashboard's PostgreSQL queries, with Grafana's macros and variables filled in, against the
 * real schema (migrated PGlite, or TEST_DATABASE_URL) holding the demo data, so a renamed column or a
 * broken period conversion fails here rather than on the wall screen.
 */
const dashboard = dashboardSchema.parse(
  JSON.parse(fs.readFileSync(repoPath('grafana/dashboards/riskwatch-overview.json'), 'utf8')),
);
const pgTargets = dataPanels(dashboard).flatMap((p) =>
  p.targets.filter((t) => t.rawSql).map((t) => ({ panel: p, sql: t.rawSql ?? '' })),
);
const panelSql = (type: string, pattern: RegExp) => {
  const found = pgTargets.find((t) => t.panel.type === type && pattern.test(t.sql));
  if (!found) throw new Error(`no ${type} panel with SQL matching ${pattern}`);
  return found.sql;
};
const variableSql = (name: string) => {
  const v = dashboard.templating.list.find((x) => x.name === name);
  if (typeof v?.query !== 'string') throw new Error(`no query variable ${name}`);
  return v.query;
};

const ALL = { institution_type: '.*', county: '.*', institution: '.*', metric: 'npl_ratio' };

let handle: TestDatabase;
let db: Kysely<unknown>;
const query = async (text: string, values: Record<string, string>) =>
  (
    await sql
      .raw<Record<string, unknown>>(substituteGrafanaVariables(text, { ...ALL, ...values }))
      .execute(db)
  ).rows;

beforeAll(async () => {
  handle = await createTestDatabase();
  db = handle.db as unknown as Kysely<unknown>;
  const loaded = Catalog.load(fileURLToPath(new URL('../../../rules', import.meta.url)));
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  const catalog = loaded.value;
  const demo = buildDemoData('2025-06', 12);

  await sql`INSERT INTO institutions (code, name, type, county, credit_code) VALUES ${sql.join(
    demo.institutions.map(
      (i) => sql`(${i.code}, ${i.name}, ${i.type}, ${i.county}, ${i.credit_code ?? null})`,
    ),
  )}`.execute(db);
  await sql`INSERT INTO uploads (file_sha256, format, row_count, uploaded_by) VALUES ('0', 'json', 0, 'test')`.execute(
    db,
  );

  const groups = new Map<string, { institution: string; period: string; values: Record<string, number> }>();
  for (const o of demo.observations) {
    const key = `${o.institution} ${o.period}`;
    const g = groups.get(key) ?? { institution: o.institution, period: o.period, values: {} };
    g.values[o.metric] = o.value;
    groups.set(key, g);
  }
  const types = new Map(demo.institutions.map((i) => [i.code, i.type]));
  const rows: RawBuilder<unknown>[] = [];
  let id = 0;
  const submissions: RawBuilder<unknown>[] = [];
  const submit = (
    institution: string,
    period: string,
    version: number,
    current: boolean,
    values: Record<string, number>,
    derived: Record<string, number>,
  ) => {
    id += 1;
    submissions.push(sql`(${id}, 1, ${institution}, ${period}, ${version}, ${current})`);
    for (const [metric, value] of Object.entries(values))
      rows.push(sql`(${id}, ${institution}, ${period}, ${metric}, ${value}, false)`);
    for (const [metric, value] of Object.entries(derived))
      rows.push(sql`(${id}, ${institution}, ${period}, ${metric}, ${value}, true)`);
  };
  // A superseded first version that the history must not show.
  submit('DEMO-YCRCB', '2025-06', 1, false, {}, { npl_ratio: 99 });
  for (const g of groups.values()) {
    const version = g.institution === 'DEMO-YCRCB' && g.period === '2025-06' ? 2 : 1;
    submit(
      g.institution,
      g.period,
      version,
      true,
      g.values,
      catalog.derive(types.get(g.institution) ?? '', g.values),
    );
  }
  await sql`INSERT INTO submissions (id, upload_id, institution_code, period, version, is_current) OVERRIDING SYSTEM VALUE VALUES ${sql.join(submissions)}`.execute(
    db,
  );
  await sql`INSERT INTO observations (submission_id, institution_code, period, metric, value, derived) VALUES ${sql.join(rows)}`.execute(
    db,
  );

  const alert = (
    fingerprint: string,
    institution: string | null,
    metric: string,
    state: string,
    severity: string,
    value: number,
    threshold: number,
    since: string,
  ) =>
    sql`(${fingerprint}, 'rule', ${institution}, ${metric}, ${state}, ${severity}, ${value}, ${threshold}, '2025-06', '2025-05', ${since}::timestamptz, ${state === 'firing' ? since : null}::timestamptz, ${since}::timestamptz)`;
  await sql`INSERT INTO alerts (fingerprint, rule_id, institution_code, metric, state, severity, value, threshold, period, first_period, started_at, fired_at, updated_at) VALUES ${sql.join(
    [
      alert('a', 'DEMO-YCRCB', 'npl_ratio', 'firing', 'critical', 5.54, 5, '2025-07-10T02:00:00Z'),
      alert('b', 'DEMO-JJFG', 'guarantee_leverage', 'firing', 'warning', 9.2, 8, '2025-06-10T02:00:00Z'),
      alert('c', null, 'npl_ratio', 'firing', 'info', 2.1, 2, '2025-07-11T02:00:00Z'),
      alert('d', 'DEMO-JJRCB', 'npl_ratio', 'resolved', 'warning', 4.1, 4, '2025-03-10T02:00:00Z'),
    ],
  )}`.execute(db);
});

afterAll(async () => {
  await handle?.close();
});

describe('the dashboard SQL on the real schema', () => {
  const firing = () => panelSql('table', /FROM alerts/);
  const history = () => panelSql('timeseries', /FROM observations/);

  it('lists firing alerts most severe first with the institution name, regional ones included', async () => {
    const rows = await query(firing(), {});
    expect(
      rows.map((r) => [r.severity, r.institution, r.code, r.metric, r.value, r.threshold, r.period]),
    ).toEqual([
      ['critical', '永春农村商业银行(演示)', 'DEMO-YCRCB', 'npl_ratio', 5.54, 5, '2025-06'],
      ['warning', '晋江恒信融资担保有限公司(演示)', 'DEMO-JJFG', 'guarantee_leverage', 9.2, 8, '2025-06'],
      ['info', '(区域 regional)', null, 'npl_ratio', 2.1, 2, '2025-06'],
    ]);
    expect(new Date(rows[0]?.since as string).toISOString()).toBe('2025-07-10T02:00:00.000Z');
  });

  it('filters firing alerts by county, type and institution', async () => {
    const codes = async (values: Record<string, string>) =>
      (await query(firing(), values)).map((r) => r.code);
    expect(await codes({ county: '永春县' })).toEqual(['DEMO-YCRCB']);
    expect(await codes({ institution_type: '(financing_guarantee|microloan)' })).toEqual(['DEMO-JJFG']);
    expect(await codes({ institution: 'DEMO-JJRCB' })).toEqual([]);
  });

  it('draws monthly history from current submissions on the first day of each month', async () => {
    const rows = await query(history(), { institution: 'DEMO-YCRCB' });
    expect(rows).toHaveLength(12);
    expect(rows.map((r) => (r.time as Date).toISOString().slice(0, 10))).toEqual(
      Array.from(
        { length: 12 },
        (_, i) => `${i < 6 ? 2024 : 2025}-${String(((i + 6) % 12) + 1).padStart(2, '0')}-01`,
      ),
    );
    expect(new Set(rows.map((r) => r.metric))).toEqual(new Set(['永春农村商业银行(演示)']));
    const last = rows.at(-1)?.value as number;
    expect(last).toBeGreaterThan(5);
    expect(last).toBeLessThan(99);
  });

  it('places quarterly history on the first day of the quarter’s last month', async () => {
    const rows = await query(history(), { institution: 'DEMO-HAVB', metric: 'capital_adequacy_ratio' });
    expect(rows.map((r) => (r.time as Date).toISOString().slice(0, 10))).toEqual([
      '2024-09-01',
      '2024-12-01',
      '2025-03-01',
      '2025-06-01',
    ]);
    expect(rows.at(-1)?.value as number).toBeLessThan(10.5);
  });

  it('fills the type, county and institution variables', async () => {
    const typeRows = await query(variableSql('institution_type'), {});
    expect(typeRows).toContainEqual({ __value: 'village_bank', __text: '村镇银行' });
    expect(typeRows).toContainEqual({ __value: 'pawn', __text: '典当行' });
    // The demo sample has every institution type of the catalog.
    expect(typeRows).toHaveLength(10);
    const counties = await query(variableSql('county'), { institution_type: 'village_bank' });
    expect(counties.map((r) => r.county)).toEqual(['南安市', '惠安县']);
    const institutions = await query(variableSql('institution'), { county: '惠安县' });
    expect(institutions).toEqual([
      { __value: 'DEMO-HARCB', __text: '惠安农村商业银行(演示)' },
      { __value: 'DEMO-HAVB', __text: '惠安海丝村镇银行(演示)' },
    ]);
  });
});
