/**
 * Synthetic national-scale history for the evaluation benchmark: tens of thousands of institutions of
 * several types, each reporting its type's catalog metrics (topped up with synthetic balances to a fixed
 * count) over several years of months and quarters, written into a PostgreSQL database as the service
 * stores it (one upload per period, one current submission per institution and period, observations
 * period by period as monthly filings arrive). Values are driven by the rules: most institutions sit on
 * the safe side of every threshold with a wobble, a few drift across a limit over the last months, so
 * every kind of rule has something to judge. Deterministic (seeded), so every run sees the same data.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'kysely';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Catalog } from '../../src/catalog/catalog.js';
import type { MetricDef } from '../../src/catalog/catalog.schema.js';
import { formatPeriod, type Period, parsePeriod, shiftPeriod } from '../../src/catalog/period.js';
import { openDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrator.js';
import { hashSeed, mulberry32 } from '../../src/demo/demo.random.js';
import { judgementOf } from '../../src/rules/rule.derived.js';
import type { Rule } from '../../src/rules/rule.schema.js';

/** What to generate. */
export interface NationalSpec {
  readonly institutions: number;
  /** Metrics per institution: its type's catalog metrics, then synthetic balances up to this count. */
  readonly metrics: number;
  /** Months of history, ending at `end`; quarters are those whose last month falls in the window. */
  readonly months: number;
  /** The latest month, `YYYY-MM`. */
  readonly end: string;
  /** Share of institutions drifting across a limit over the last months. */
  readonly driftShare: number;
  readonly seed: number;
}

/** The population's mix of types: banks, then the leveraged quasi-financial firms. */
export const NATIONAL_MIX: readonly { readonly type: string; readonly share: number }[] = [
  { type: 'city_commercial_bank', share: 0.05 },
  { type: 'rural_commercial_bank', share: 0.3 },
  { type: 'rural_credit_cooperative', share: 0.15 },
  { type: 'village_bank', share: 0.2 },
  { type: 'financing_guarantee', share: 0.15 },
  { type: 'microloan', share: 0.15 },
];

/** The code of the i-th institution (from 0). */
export function nationalCode(i: number): string {
  return `NAT${String(i + 1).padStart(6, '0')}`;
}

/** The type of the i-th institution: the mix laid out in stripes, so every slice of codes has every type. */
export function nationalType(i: number): string {
  const x = (((i * 0.6180339887) % 1) + 1) % 1;
  let acc = 0;
  for (const m of NATIONAL_MIX) {
    acc += m.share;
    if (x < acc) return m.type;
  }
  return (NATIONAL_MIX.at(-1) as { type: string }).type;
}

/** Synthetic balances added to a type's catalog metrics until it has `count`. */
export function syntheticMetricCodes(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `bench_n${String(i + 1).padStart(2, '0')}`);
}

/** The periods of the window, oldest first: months, then quarters ending inside it. */
export function nationalPeriods(spec: Pick<NationalSpec, 'months' | 'end'>): {
  months: string[];
  quarters: string[];
} {
  const end = parsePeriod(spec.end);
  if (end?.frequency !== 'monthly') throw new Error(`end must be a month, not ${spec.end}`);
  const months: string[] = [];
  const quarters: string[] = [];
  for (let k = spec.months - 1; k >= 0; k--) {
    const p = shiftPeriod(end, -k);
    months.push(formatPeriod(p));
    if (p.index % 3 === 0) quarters.push(`${p.year}-Q${p.index / 3}`);
  }
  return { months, quarters };
}

/** How a metric's values are drawn for an institution type. */
interface MetricPlan {
  readonly metric: MetricDef;
  /** Set for a threshold-watched ratio: which way is worse and where the lines are. */
  readonly line?: { readonly up: boolean; readonly warning: number; readonly critical: number };
  /** A quotient formula `numerator / denominator * scale` whose numerator is solved from the ratio. */
  readonly quotient?: { readonly numerator: string; readonly denominator: string; readonly scale: number };
}

const QUOTIENT = /^\s*([a-z][a-z0-9_]*)\s*\/\s*([a-z][a-z0-9_]*)\s*(?:\*\s*([0-9.]+))?\s*$/;

/**
 * What one institution of a type reports, at most `count` metrics: first the metrics the rules covering the
 * type read (the most-read first: each rule's metric, a region rule's components, an expression's inputs),
 * then the components of the quotients chosen, then the type's other catalog metrics. A ratio is written
 * with its components where both are chosen (so they agree), else as reported.
 */
export function metricPlans(
  catalog: Catalog,
  rules: readonly Rule[],
  type: string,
  count: number,
): MetricPlan[] {
  const reads = new Map<string, number>();
  for (const rule of rules) {
    if (rule.kind === 'missing_filing' || !rule.types.includes(type)) continue;
    for (const m of new Set([rule.metric, ...judgementOf(rule).inputs]))
      if (catalog.reports(type, m)) reads.set(m, (reads.get(m) ?? 0) + 1);
  }
  const own = catalog.metricsFor(type).filter((m) => !m.code.startsWith('bench_'));
  const order = new Map(own.map((m, i) => [m.code, i]));
  const chosen: string[] = [...reads.keys()]
    .sort((a, b) => (reads.get(b) ?? 0) - (reads.get(a) ?? 0) || (order.get(a) ?? 0) - (order.get(b) ?? 0))
    .slice(0, count);
  const add = (code: string) => {
    if (chosen.length < count && !chosen.includes(code) && catalog.reports(type, code)) chosen.push(code);
  };
  for (const code of [...chosen]) {
    const m = QUOTIENT.exec(catalog.metrics.get(code)?.formula ?? '');
    if (m) {
      add(m[1] as string);
      add(m[2] as string);
    }
  }
  for (const m of own) add(m.code);
  const plans: MetricPlan[] = [];
  for (const code of chosen) {
    const metric = catalog.metrics.get(code) as MetricDef;
    const rule = rules.find((r) => r.kind === 'threshold' && r.metric === code && r.types.includes(type));
    let line: MetricPlan['line'];
    if (rule?.kind === 'threshold') {
      const levels = rule.levels.map((l) => l.threshold);
      const up = rule.op === '>' || rule.op === '>=';
      line = {
        up,
        warning: up ? Math.min(...levels) : Math.max(...levels),
        critical: up ? Math.max(...levels) : Math.min(...levels),
      };
    }
    const m = metric.formula ? QUOTIENT.exec(metric.formula) : null;
    const quotient =
      m && chosen.includes(m[1] as string) && chosen.includes(m[2] as string)
        ? { numerator: m[1] as string, denominator: m[2] as string, scale: m[3] ? Number(m[3]) : 1 }
        : undefined;
    plans.push({ metric, ...(line ? { line } : {}), ...(quotient ? { quotient } : {}) });
  }
  // Watched ratios first, so their components are solved from them; then other quotients (computed
  // from components already drawn), then the rest.
  const rank = (p: MetricPlan) => (p.quotient ? (p.line ? 0 : 1) : 2);
  return plans
    .map((p, i) => ({ p, i }))
    .sort((a, b) => rank(a.p) - rank(b.p) || a.i - b.i)
    .map((x) => x.p);
}

/** One institution's drawn character: size, growth, and which metrics drift (and how far). */
interface Character {
  readonly size: number;
  readonly growth: number;
  /** Per plan index: where the value sits between the safe base (0) and past the critical line (1+). */
  readonly base: Map<string, number>;
  readonly drift: Map<string, number>;
}

const DRIFT_PERIODS = { monthly: 9, quarterly: 3 } as const;

/**
 * Values of one institution for one period, as stored: raw balances and ratios, ratios consistent with
 * their components where the formula is a quotient of reported balances.
 */
function periodValues(
  code: string,
  plans: readonly MetricPlan[],
  character: Character,
  period: Period,
  fromEnd: number,
  frequency: 'monthly' | 'quarterly',
  synthetic: readonly string[],
): Map<string, number> {
  const values = new Map<string, number>();
  const noise = (key: string) => mulberry32(hashSeed(`${code}:${key}:${formatPeriod(period)}`))() * 2 - 1;
  const sizeAt = character.size * (1 + character.growth) ** -fromEnd;
  const driftAt = Math.max(0, 1 - fromEnd / DRIFT_PERIODS[frequency]);
  const ratioOf = (plan: MetricPlan): number => {
    const line = plan.line;
    const base = character.base.get(plan.metric.code) ?? 0.5;
    const drift = character.drift.get(plan.metric.code) ?? 0;
    if (!line) {
      const range = plan.metric.range;
      const lo = Math.max(range.min ?? 0, 0);
      const hi = Math.min(range.max ?? 100, 100);
      return lo + (hi - lo) * (0.2 + 0.5 * base) * (1 + 0.02 * noise(plan.metric.code));
    }
    // 0 = a healthy distance on the safe side, 1 = at the critical line; drift pushes towards it.
    const position = base + (drift - base) * driftAt;
    const safe = line.up ? line.warning * 0.45 : line.warning * 1.6;
    const value = safe + (line.critical - safe) * position;
    return value * (1 + 0.015 * noise(plan.metric.code));
  };
  for (const plan of plans) {
    const m = plan.metric;
    if (m.frequency !== frequency || values.has(m.code)) continue;
    if (plan.quotient) {
      const { numerator, denominator, scale } = plan.quotient;
      if (!values.has(denominator))
        values.set(
          denominator,
          round2(sizeAt * (0.5 + hashUnit(`${code}:${denominator}`)) * (1 + 0.004 * noise(denominator))),
        );
      const den = values.get(denominator) as number;
      if (values.has(numerator)) {
        const num = values.get(numerator) as number;
        values.set(m.code, round2((num / den) * scale));
      } else {
        const ratio = ratioOf(plan);
        const num = round2((ratio * den) / scale);
        values.set(numerator, num);
        values.set(m.code, round2((num / den) * scale));
      }
      continue;
    }
    if (m.unit === 'cny_10k') {
      values.set(m.code, round2(sizeAt * (0.2 + hashUnit(`${code}:${m.code}`)) * (1 + 0.01 * noise(m.code))));
    } else {
      values.set(m.code, round2(ratioOf(plan)));
    }
  }
  if (frequency === 'monthly') {
    for (const s of synthetic) values.set(s, round2(sizeAt * 0.1 * (1 + 0.02 * noise(s))));
  }
  return values;
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const hashUnit = (key: string) => mulberry32(hashSeed(key))();

/** Each institution's character, drawn once from the seed. */
function characterOf(code: string, plans: readonly MetricPlan[], spec: NationalSpec): Character {
  const next = mulberry32(hashSeed(`${spec.seed}:${code}`));
  const size = 20_000 * Math.exp(next() * 4);
  const growth = 0.002 + next() * 0.01;
  const base = new Map<string, number>();
  const drift = new Map<string, number>();
  const watched = plans.filter((p) => p.line);
  for (const p of plans) base.set(p.metric.code, next() * 0.45);
  if (next() < spec.driftShare && watched.length > 0) {
    // One or two watched ratios drift to somewhere between the warning line and past the limit.
    const count = next() < 0.7 ? 1 : 2;
    for (let k = 0; k < count; k++) {
      const p = watched[Math.floor(next() * watched.length)] as MetricPlan;
      drift.set(p.metric.code, 0.8 + next() * 0.5);
    }
  }
  return { size, growth, base, drift };
}

/** What a generated database holds. */
export interface NationalSummary {
  readonly institutions: number;
  readonly submissions: number;
  readonly observations: number;
  /** Metrics per institution by type. */
  readonly metricsByType: Readonly<Record<string, number>>;
  readonly months: readonly string[];
  readonly quarters: readonly string[];
}

/**
 * Creates the schema (migrations) in the database at `url` and fills it: institutions, one upload per
 * period, one current submission per institution and period, then the observations period by period
 * (as filings arrive), through COPY with the observation indexes and check triggers dropped and rebuilt
 * afterwards (set-up speed only; the schema ends exactly as migrated). `periods` limits which periods
 * are written (default: all), so a caller can hold the latest one back and upload it later.
 */
export async function writeNationalDatabase(
  url: string,
  spec: NationalSpec,
  catalog: Catalog,
  rules: readonly Rule[],
  log: (message: string) => void,
  holdBack: readonly string[] = [],
): Promise<NationalSummary> {
  const handle = await openDatabase({ databaseUrl: url });
  const db = handle.db;
  try {
    await migrateToLatest(db as never);
    const { months, quarters } = nationalPeriods(spec);
    const counties = [...catalog.counties.keys()];
    const codes = Array.from({ length: spec.institutions }, (_, i) => nationalCode(i));
    const types = codes.map((_, i) => nationalType(i));
    await sql`INSERT INTO institutions (code, name, type, county, created_at)
      SELECT c, '基准机构' || c, t, (${counties}::text[])[1 + (n - 1)::int % ${counties.length}::int],
        timestamptz '2020-01-01T00:00:00Z'
      FROM unnest(${codes}::text[], ${types}::text[]) WITH ORDINALITY AS x(c, t, n)`.execute(db);

    const plansByType = new Map<string, MetricPlan[]>();
    const derivedByType = new Map<string, Set<string>>();
    const syntheticByType = new Map<string, string[]>();
    const metricsByType: Record<string, number> = {};
    for (const { type } of NATIONAL_MIX) {
      const plans = metricPlans(catalog, rules, type, spec.metrics);
      plansByType.set(type, plans);
      // Ratios computed from their components are stored as derived, as an upload stores them.
      derivedByType.set(type, new Set(plans.filter((p) => p.quotient).map((p) => p.metric.code)));
      const synthetic = syntheticMetricCodes(Math.max(0, spec.metrics - plans.length));
      syntheticByType.set(type, synthetic);
      metricsByType[type] = plans.length + synthetic.length;
    }
    const characters = codes.map((code, i) =>
      characterOf(code, plansByType.get(types[i] as string) as MetricPlan[], spec),
    );

    // Periods in the order their filings arrive: each month, then the quarter it closes.
    const order: { period: string; frequency: 'monthly' | 'quarterly'; fromEnd: number }[] = [];
    for (const [k, month] of months.entries()) {
      order.push({ period: month, frequency: 'monthly', fromEnd: months.length - 1 - k });
      const p = parsePeriod(month) as Period;
      if (p.index % 3 === 0) {
        const q = `${p.year}-Q${p.index / 3}`;
        order.push({ period: q, frequency: 'quarterly', fromEnd: quarters.length - 1 - quarters.indexOf(q) });
      }
    }
    const written = order.filter((o) => !holdBack.includes(o.period));

    await sql`ALTER TABLE observations DISABLE TRIGGER USER`.execute(db);
    await sql`ALTER TABLE observations DROP CONSTRAINT observations_pkey`.execute(db);
    await sql`DROP INDEX observations_series`.execute(db);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    let submissions = 0;
    let observations = 0;
    try {
      for (const o of written) {
        const { rows } = await client.query<{ id: string }>(
          `INSERT INTO uploads (file_name, file_sha256, format, row_count, uploaded_by, created_at)
           VALUES ($1, md5($1), 'csv', 0, 'bench', now()) RETURNING id`,
          [`national-${o.period}.csv`],
        );
        const uploadId = Number(rows[0]?.id);
        const subRows = await client.query<{ id: string; institution_code: string }>(
          `INSERT INTO submissions (upload_id, institution_code, period, version, is_current, created_at)
           SELECT $1, c, $2, 1, true, now() FROM unnest($3::text[]) AS c RETURNING id, institution_code`,
          [uploadId, o.period, codes],
        );
        const ids = new Map(subRows.rows.map((r) => [r.institution_code, Number(r.id)]));
        submissions += ids.size;
        const period = parsePeriod(o.period) as Period;
        const chunk = function* (): Generator<string> {
          let text = '';
          for (let i = 0; i < codes.length; i++) {
            const code = codes[i] as string;
            const type = types[i] as string;
            const values = periodValues(
              code,
              plansByType.get(type) as MetricPlan[],
              characters[i] as Character,
              period,
              o.fromEnd,
              o.frequency,
              syntheticByType.get(type) as string[],
            );
            const prefix = `${ids.get(code)}\t${code}\t${o.period}\t`;
            const computed = derivedByType.get(type) as Set<string>;
            for (const [metric, value] of values) {
              const derived = computed.has(metric);
              text += `${prefix}${metric}\t${value}\t${derived ? 't' : 'f'}\n`;
              observations++;
            }
            if (text.length > 1 << 20) {
              yield text;
              text = '';
            }
          }
          if (text) yield text;
        };
        await pipeline(
          Readable.from(chunk()),
          client.query(
            copyFrom(
              'COPY observations (submission_id, institution_code, period, metric, value, derived) FROM STDIN',
            ),
          ),
        );
        log(`national data: ${o.period} written (${observations.toLocaleString('en-US')} observations)`);
      }
    } finally {
      await client.end();
    }
    log('national data: building the observation indexes');
    await sql`ALTER TABLE observations ADD CONSTRAINT observations_pkey PRIMARY KEY (submission_id, metric)`.execute(
      db,
    );
    await sql`CREATE INDEX observations_series ON observations (institution_code, metric, period)`.execute(
      db,
    );
    await sql`ALTER TABLE observations ENABLE TRIGGER USER`.execute(db);
    await sql`VACUUM ANALYZE`.execute(db);
    return {
      institutions: codes.length,
      submissions,
      observations,
      metricsByType,
      months,
      quarters,
    };
  } finally {
    await handle.close();
  }
}

/** The values one institution reports for one period, for uploading the held-back period through the service. */
export function nationalValues(
  spec: NationalSpec,
  catalog: Catalog,
  rules: readonly Rule[],
  index: number,
  periodText: string,
): Map<string, number> {
  const code = nationalCode(index);
  const type = nationalType(index);
  const plans = metricPlans(catalog, rules, type, spec.metrics);
  const synthetic = syntheticMetricCodes(Math.max(0, spec.metrics - plans.length));
  const { months, quarters } = nationalPeriods(spec);
  const period = parsePeriod(periodText) as Period;
  const fromEnd =
    period.frequency === 'monthly'
      ? months.length - 1 - months.indexOf(periodText)
      : quarters.length - 1 - quarters.indexOf(periodText);
  return periodValues(
    code,
    plans,
    characterOf(code, plans, spec),
    period,
    fromEnd,
    period.frequency,
    synthetic,
  );
}
