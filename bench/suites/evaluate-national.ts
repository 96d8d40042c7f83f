/**
 * Evaluation at national scale on PostgreSQL: a database of tens of thousands of institutions with
 * years of history (bench/lib/national-data.ts), the shipped rules, and three measurements:
 *
 * - **full**: the scheduled evaluation of every institution after the latest period was filed, from the
 *   alerts the previous period left (every alert moves on: updated, escalated, resolved, new ones fire);
 *   and once more in the steady state (the same evaluation again: nothing changes);
 * - **incremental**: the evaluation one institution's upload runs in its transaction, for institutions
 *   picked at random (each rolled back, so every sample starts from the same state);
 * - **floor**: one hand-written SQL query that finds the plain threshold breaches of the latest period,
 *   what no evaluation can beat.
 *
 * The database is kept between runs (`riskwatch_bench_national_<spec>`), since writing 20 million rows
 * takes minutes; `--fresh` rebuilds it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import YAML from 'yaml';
import {
  evaluateAll,
  evaluateEveryInstitution,
  type WindowPhases,
} from '../../src/alerts/evaluation.full.js';
import { evaluateInstitutions, type RulesSnapshot } from '../../src/alerts/evaluation.service.js';
import { openDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrator.js';
import type { Database } from '../../src/db/schema.js';
import { filingDueAt } from '../../src/filing/deadline.js';
import { sizeYoungGeneration } from '../../src/heap.js';
import { loadRulesDir } from '../../src/rules/rules.runtime.js';
import { SHIPPED_RULES_DIR } from '../lib/bulk-data.js';
import {
  metricPlans,
  NATIONAL_MIX,
  type NationalSpec,
  nationalCode,
  nationalPeriods,
  nationalType,
  syntheticMetricCodes,
  writeNationalDatabase,
} from '../lib/national-data.js';
import { median } from '../lib/stats.js';

/** Goals from the rule-engine issue. */
export const NATIONAL_GOALS = { fullMs: 5000, incrementalMs: 50 } as const;

/** Version of the generator: a change here or in the spec builds a new database. */
const GENERATOR_VERSION = 4;

export interface NationalOptions {
  readonly url: string;
  readonly spec: NationalSpec;
  readonly runs: number;
  readonly incrementalSamples: number;
  readonly fresh: boolean;
  readonly log: (message: string) => void;
}

export interface NationalResult {
  readonly spec: NationalSpec;
  readonly database: string;
  readonly observations: number;
  readonly submissions: number;
  readonly metricsByType: Readonly<Record<string, number>>;
  readonly rules: number;
  readonly activeBefore: number;
  readonly fullMs: number[];
  readonly fullTransitions: number;
  /** Where each timed full evaluation's time went. */
  readonly fullPhases: WindowPhases[];
  readonly steadyMs: number[];
  readonly incrementalMs: number[];
  /** Incremental evaluations right after another institution of the type filed a new version. */
  readonly afterOtherMs: number[];
  readonly floorMs: number[];
  readonly floorRows: number;
  readonly setupMs: number;
}

/** The next institution after the i-th of the same type. */
function nextOfType(index: number, count: number): number {
  const type = nationalType(index);
  for (let j = 1; j < count; j++) if (nationalType((index + j) % count) === type) return (index + j) % count;
  return index;
}

/** A new version of an institution's submission for a period, with the same values, as an upload writes it. */
async function refile(trx: Kysely<Database>, code: string, period: string): Promise<void> {
  await sql`WITH old AS (
      UPDATE submissions SET is_current = false
      WHERE institution_code = ${code} AND period = ${period} AND is_current
      RETURNING id, upload_id, version
    ), made AS (
      INSERT INTO submissions (upload_id, institution_code, period, version)
      SELECT upload_id, ${code}, ${period}, version + 1 FROM old RETURNING id
    )
    INSERT INTO observations (submission_id, institution_code, period, metric, value, derived)
    SELECT made.id, o.institution_code, o.period, o.metric, o.value, o.derived
    FROM observations AS o, old, made WHERE o.submission_id = old.id`.execute(trx);
}

/** Writes the rules folder of the benchmark: the shipped rules, the catalog with the synthetic balances. */
export function writeNationalRulesDir(dir: string, spec: NationalSpec): RulesSnapshot {
  fs.mkdirSync(dir, { recursive: true });
  for (const name of fs.readdirSync(SHIPPED_RULES_DIR)) {
    if (name.endsWith('.yaml') && name !== 'catalog.yaml')
      fs.copyFileSync(path.join(SHIPPED_RULES_DIR, name), path.join(dir, name));
  }
  const catalog = YAML.parse(fs.readFileSync(path.join(SHIPPED_RULES_DIR, 'catalog.yaml'), 'utf8')) as {
    metrics: Array<Record<string, unknown>>;
  };
  for (const code of syntheticMetricCodes(spec.metrics)) {
    catalog.metrics.push({
      code,
      name: { zh: `基准余额 ${code.slice(-2)}`, en: `Benchmark balance ${code.slice(-2)}` },
      unit: 'cny_10k',
      frequency: 'monthly',
      types: NATIONAL_MIX.map((m) => m.type),
      range: { min: 0 },
    });
  }
  fs.writeFileSync(
    path.join(dir, 'catalog.yaml'),
    `# Generated by bench/suites/evaluate-national.ts from rules/catalog.yaml.\n${YAML.stringify(catalog)}`,
  );
  const loaded = loadRulesDir(dir, new Date());
  if (!loaded.ok)
    throw new Error(`the national rules folder does not load: ${JSON.stringify(loaded.problems)}`);
  return loaded.value;
}

function specKey(spec: NationalSpec, rulesHash: string): string {
  return createHash('sha256')
    .update(JSON.stringify({ spec, rulesHash, GENERATOR_VERSION }))
    .digest('hex')
    .slice(0, 10);
}

async function exists(admin: pg.Client, name: string): Promise<boolean> {
  const { rows } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  return rows.length > 0;
}

/** Alert state tables saved after set-up and restored before each timed full evaluation. */
/** In the order they are filled again (children after parents). */
const STATE_TABLES = ['alerts', 'alert_events', 'notification_outbox', 'notification_items'] as const;

async function saveState(db: Kysely<Database>): Promise<void> {
  for (const t of STATE_TABLES) {
    await sql`DROP TABLE IF EXISTS ${sql.table(`bench_saved_${t}`)}`.execute(db);
    await sql`CREATE TABLE ${sql.table(`bench_saved_${t}`)} AS SELECT * FROM ${sql.table(t)}`.execute(db);
  }
}

async function restoreState(db: Kysely<Database>): Promise<void> {
  await sql`TRUNCATE notification_items, notification_outbox, alert_events, alerts`.execute(db);
  for (const t of STATE_TABLES) {
    await sql`INSERT INTO ${sql.table(t)} OVERRIDING SYSTEM VALUE SELECT * FROM ${sql.table(`bench_saved_${t}`)}`.execute(
      db,
    );
  }
  await sql`VACUUM ANALYZE alerts`.execute(db);
}

/** The instant of the scheduled evaluation: the day after the latest month's filing deadline. */
function evaluationInstant(snapshot: RulesSnapshot, month: string): Date {
  const due = filingDueAt(month, snapshot.catalog.filingDeadlines, snapshot.timeZone);
  return new Date((due?.getTime() ?? Date.now()) + 3600_000);
}

export async function runEvaluateNational(options: NationalOptions): Promise<NationalResult> {
  const { spec, log } = options;
  // The young generation the service runs its evaluations with (`serve` sets it too).
  sizeYoungGeneration();
  const rulesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'riskwatch-national-rules-'));
  const snapshot = writeNationalRulesDir(rulesDir, spec);
  const key = specKey(spec, snapshot.hash);
  const name = `riskwatch_bench_national_${key}`;
  const base = new URL(options.url);
  const admin = new pg.Client({ connectionString: options.url });
  await admin.connect();
  const setupStarted = performance.now();
  const { months, quarters } = nationalPeriods(spec);
  const latestMonth = months.at(-1) as string;
  const latestQuarter = quarters.at(-1) as string;
  const url = new URL(base);
  url.pathname = `/${name}`;
  const now = evaluationInstant(snapshot, latestMonth);
  try {
    if (options.fresh && (await exists(admin, name))) await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    if (!(await exists(admin, name))) {
      log(`national data: creating ${name}`);
      await admin.query(`CREATE DATABASE ${name}`);
      try {
        await writeNationalDatabase(url.toString(), spec, snapshot.catalog, snapshot.rules, log, []);
        // The alerts the previous period left: every institution evaluated at the previous month's
        // deadline over its history up to then, as the uploads of that month would have left them.
        log('national data: evaluating the history up to the previous period (set-up)');
        await establishState(url.toString(), snapshot, spec, now);
      } catch (error) {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        throw error;
      }
    }
  } finally {
    await admin.end();
  }
  const setupMs = performance.now() - setupStarted;

  const handle = await openDatabase({ databaseUrl: url.toString() });
  const db = handle.db;
  try {
    // A database kept from an earlier run gets the migrations written since (indexes, triggers).
    const applied = await migrateToLatest(db as never);
    if (applied.length > 0) {
      await sql`VACUUM ANALYZE submissions`.execute(db);
      log(`national: migrated the kept database (${applied.join(', ')})`);
    }
    const counts = await sql<{ observations: string; submissions: string; active: string }>`
      SELECT (SELECT count(*) FROM observations) AS observations,
             (SELECT count(*) FROM submissions) AS submissions,
             (SELECT count(*) FROM bench_saved_alerts WHERE state <> 'resolved') AS active`.execute(db);
    const c = counts.rows[0];
    log(`national: ${c?.observations} observations, ${c?.active} active alerts before the latest period`);

    // The floor: the plain threshold breaches of the latest period, in one query.
    const floorQuery = floorSql(snapshot, [latestMonth, latestQuarter]);
    const floorMs: number[] = [];
    let floorRows = 0;
    for (let r = 0; r <= options.runs; r++) {
      const t = performance.now();
      const { rows } = await sql.raw(floorQuery).execute(db);
      if (r > 0) floorMs.push(performance.now() - t);
      floorRows = rows.length;
    }
    log(`national: floor query ${median(floorMs).toFixed(0)} ms, ${floorRows} breaches`);

    const fullMs: number[] = [];
    const steadyMs: number[] = [];
    const fullPhases: WindowPhases[] = [];
    let fullTransitions = 0;
    for (let r = 0; r <= options.runs; r++) {
      await restoreState(db);
      const t = performance.now();
      const done = await evaluateEveryInstitution(db, () => snapshot, now);
      const ms = performance.now() - t;
      if (done.mode !== 'window' || !done.phases)
        throw new Error('the full evaluation did not run in a window');
      fullTransitions = done.transitions;
      const t2 = performance.now();
      const again = await evaluateAll(db, () => snapshot, now);
      const steady = performance.now() - t2;
      if (again !== 0) throw new Error(`a steady re-evaluation recorded ${again} transitions`);
      log(
        `national: full ${ms.toFixed(0)} ms (${fullTransitions} transitions; ${JSON.stringify(done.phases)}), steady ${steady.toFixed(0)} ms`,
      );
      if (r > 0) {
        fullMs.push(ms);
        steadyMs.push(steady);
        fullPhases.push(done.phases);
      }
    }

    await restoreState(db);
    // In a transaction rolled back afterwards: what `timed` takes, after `before` (untimed).
    const sample = async (
      timed: (trx: Kysely<Database>) => Promise<unknown>,
      before?: (trx: Kysely<Database>) => Promise<unknown>,
    ) => {
      let ms = 0;
      await db
        .transaction()
        .execute(async (trx) => {
          await before?.(trx);
          const t = performance.now();
          await timed(trx);
          ms = performance.now() - t;
          throw new RollBack();
        })
        .catch((error: unknown) => {
          if (!(error instanceof RollBack)) throw error;
        });
      return ms;
    };
    const incrementalMs: number[] = [];
    const afterOtherMs: number[] = [];
    for (let r = 0; r <= options.incrementalSamples; r++) {
      const index = Math.floor(((r * 7919) % spec.institutions) + 0.5) % spec.institutions;
      const code = nationalCode(index);
      const judge = (trx: Kysely<Database>) => evaluateInstitutions(trx, snapshot, [code], now, 'bench');
      // The version the sample before wrote was its transaction's own and rolled back: first the cache is
      // brought back to the committed state (untimed).
      await sample(judge);
      // Nothing changed since the last upload's evaluation (peers as the cache holds them).
      const ms = await sample(judge);
      // Right after another institution of the type filed a new version of the latest month: what an
      // upload meets while others file (the cache refreshes that institution).
      const other = nationalCode(nextOfType(index, spec.institutions));
      const afterOther = await sample(judge, (trx) => refile(trx, other, latestMonth));
      if (r > 0) {
        incrementalMs.push(ms);
        afterOtherMs.push(afterOther);
      }
    }
    log(
      `national: incremental median ${median(incrementalMs).toFixed(1)} ms, after another's new version ${median(afterOtherMs).toFixed(1)} ms`,
    );
    return {
      spec,
      database: name,
      observations: Number(c?.observations),
      submissions: Number(c?.submissions),
      metricsByType: Object.fromEntries(
        NATIONAL_MIX.map(({ type }) => {
          const own = metricPlans(snapshot.catalog, snapshot.rules, type, spec.metrics).length;
          return [type, own + Math.max(0, spec.metrics - own)];
        }),
      ),
      rules: snapshot.rules.length,
      activeBefore: Number(c?.active),
      fullMs,
      fullTransitions,
      fullPhases,
      steadyMs,
      incrementalMs,
      afterOtherMs,
      floorMs,
      floorRows,
      setupMs,
    };
  } finally {
    await handle.close();
    fs.rmSync(rulesDir, { recursive: true, force: true });
  }
}

class RollBack extends Error {}

/**
 * The alert state before the latest period: the latest month and quarter are hidden (their submissions
 * marked not current), every institution is evaluated over the rest, then they are shown again.
 */
async function establishState(url: string, snapshot: RulesSnapshot, spec: NationalSpec, latest: Date) {
  const { months, quarters } = nationalPeriods(spec);
  const hidden = [months.at(-1) as string, quarters.at(-1) as string];
  const handle = await openDatabase({ databaseUrl: url });
  try {
    const db = handle.db;
    await sql`UPDATE submissions SET is_current = false WHERE period = ANY(${hidden}::text[])`.execute(db);
    const previousMonthDeadline = evaluationInstant(snapshot, months.at(-2) as string);
    await evaluateAll(db, () => snapshot, previousMonthDeadline);
    await sql`UPDATE submissions SET is_current = true WHERE period = ANY(${hidden}::text[])`.execute(db);
    await saveState(db);
    void latest;
  } finally {
    await handle.close();
  }
}

/**
 * One query for the plain threshold breaches of the given periods: every threshold rule's lowest level
 * (without overrides) against the current observations of the institutions of its types.
 */
export function floorSql(snapshot: RulesSnapshot, periods: readonly string[]): string {
  const lines: string[] = [];
  for (const rule of snapshot.rules) {
    if (rule.kind !== 'threshold') continue;
    const up = rule.op === '>' || rule.op === '>=';
    const lowest = up
      ? Math.min(...rule.levels.map((l) => l.threshold))
      : Math.max(...rule.levels.map((l) => l.threshold));
    for (const type of rule.types)
      lines.push(`('${rule.id}', '${rule.metric}', '${type}', '${rule.op}', ${lowest})`);
  }
  const list = periods.map((p) => `'${p}'`).join(', ');
  const metrics = [...new Set(lines.map((l) => l.split(', ')[1]))].join(', ');
  // Driven from the current submissions of the periods (an index), then each one's observations of
  // the watched metrics by the primary key, as the evaluation's own window is read.
  return `SELECT r.rule_id, o.institution_code, o.metric, o.value
    FROM submissions s
    JOIN institutions i ON i.code = s.institution_code
    CROSS JOIN LATERAL (
      SELECT institution_code, metric, value FROM observations
      WHERE submission_id = s.id AND metric IN (${metrics})
    ) o
    JOIN (VALUES ${lines.join(', ')}) AS r(rule_id, metric, type, op, threshold)
      ON r.metric = o.metric AND r.type = i.type
    WHERE s.is_current AND s.period IN (${list})
      AND CASE r.op WHEN '>' THEN o.value > r.threshold WHEN '>=' THEN o.value >= r.threshold
                    WHEN '<' THEN o.value < r.threshold ELSE o.value <= r.threshold END`;
}
