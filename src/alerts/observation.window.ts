import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import { FREQUENCIES, type Frequency, parsePeriod } from '../catalog/period.js';
import { copyRowsOut } from '../db/copy-stream.js';
import type { Database } from '../db/schema.js';
import { transactionClient } from '../db/transaction-client.js';
import type { Filing, InstitutionRef, Observation } from '../rules/evaluate.js';

/**
 * The latest period of each frequency with a current submission: where a windowed evaluation ends.
 * Served by the partial index on current submissions' periods (a backward scan; monthly texts sort
 * below a year's quarterly ones, so the monthly query steps over that year's quarters at most).
 */
export async function latestFiledPeriods(db: Kysely<Database>): Promise<Partial<Record<Frequency, string>>> {
  const latest: Partial<Record<Frequency, string>> = {};
  for (const frequency of FREQUENCIES) {
    const row = await db
      .selectFrom('submissions')
      .select('period')
      .where('is_current', '=', true)
      .where('period', frequency === 'quarterly' ? 'like' : 'not like', '%Q%')
      .orderBy('period', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (row && parsePeriod(row.period)?.frequency === frequency) latest[frequency] = row.period;
  }
  return latest;
}

/** From this many metrics of a period on, a submission's rows are read whole and filtered here. */
const WHOLE_SUBMISSION = 4;

/**
 * The current observations of every institution for the given periods of each metric (a window from
 * `historyWindow`). A period most metrics are read for (the latest) reads each current submission's rows
 * whole by the primary key's prefix and keeps the metrics wanted; periods only a few metrics look back to
 * are read metric by metric, in one statement per distinct list of metrics. On PostgreSQL inside
 * `withTransactionClient` the rows come through `COPY … TO STDOUT`, parsed as they stream: at national
 * scale a window is hundreds of thousands of rows, and the row protocol costs several times more.
 */
export async function loadWindowObservations(
  db: Kysely<Database>,
  window: ReadonlyMap<string, readonly string[]>,
  /** Runs each statement's read, on a connection of its own (so they go side by side); on `db` when absent. */
  reader: Reader = (read) => read(db),
): Promise<Observation[]> {
  const byPeriod = new Map<string, Set<string>>();
  for (const [metric, periods] of window) {
    for (const period of periods) {
      const metrics = byPeriod.get(period) ?? new Set<string>();
      metrics.add(metric);
      byPeriod.set(period, metrics);
    }
  }
  const whole: string[] = [];
  const sparse = new Map<string, { periods: string[]; metrics: string[] }>();
  for (const [period, metrics] of byPeriod) {
    if (metrics.size >= WHOLE_SUBMISSION) {
      whole.push(period);
      continue;
    }
    const list = [...metrics].sort();
    const key = list.join(',');
    const group = sparse.get(key) ?? { periods: [], metrics: list };
    group.periods.push(period);
    sparse.set(key, group);
  }
  const read = (statement: string, keep?: (metric: string, period: string) => boolean) =>
    reader(async (on) => {
      const rows: Observation[] = [];
      const client = transactionClient();
      if (client) await copyRows(client, statement, rows, keep);
      else await selectRows(on, statement, rows, keep);
      return rows;
    });
  const parts = await Promise.all([
    ...(whole.length > 0
      ? [read(windowSql(whole, undefined), (metric, period) => byPeriod.get(period)?.has(metric) ?? false)]
      : []),
    ...[...sparse.values()].map(({ periods, metrics }) => read(windowSql(periods, metrics))),
  ]);
  return parts.length === 1 ? (parts[0] as Observation[]) : parts.flat();
}

/**
 * Runs a read on a connection: the caller's own, or (on PostgreSQL, where a scheduled evaluation holds
 * the exclusive bulk lock so nothing is written meanwhile) another of the pool, so reads go side by side.
 */
export type Reader = <T>(read: (db: Kysely<Database>) => Promise<T>) => Promise<T>;

/** A text literal, since COPY takes no parameters: codes and periods are validated identifiers. */
function literalArray(values: readonly string[]): string {
  for (const v of values) {
    if (!/^[A-Za-z0-9_:-]+$/.test(v)) throw new Error(`not a code or period: ${JSON.stringify(v)}`);
  }
  return `'{${values.join(',')}}'::text[]`;
}

/**
 * The statement both engines run: the current submissions of the periods, materialised (so the planner
 * takes them from the period index rather than scanning the key), then each one's observations by the
 * primary key — all of them, or those of `metrics` — through a lateral join kept apart by `OFFSET 0`,
 * so the planner does not flatten it into a hash join over a scan of the whole table.
 */
function windowSql(periods: readonly string[], metrics: readonly string[] | undefined): string {
  const which = metrics ? ` AND metric = ANY(${literalArray(metrics)})` : '';
  return `WITH s AS MATERIALIZED (
      SELECT id FROM submissions WHERE is_current AND period = ANY(${literalArray(periods)})
    )
    SELECT o.institution_code, o.metric, o.period, o.value, o.submission_id
    FROM s CROSS JOIN LATERAL (
      SELECT institution_code, metric, period, value, submission_id FROM observations
      WHERE submission_id = s.id${which} OFFSET 0
    ) AS o`;
}

async function selectRows(
  db: Kysely<Database>,
  statement: string,
  out: Observation[],
  keep?: (metric: string, period: string) => boolean,
): Promise<void> {
  const { rows } = await sql.raw(statement).execute(db);
  for (const r of rows as {
    institution_code: string;
    metric: string;
    period: string;
    value: number;
    submission_id: number;
  }[]) {
    if (keep && !keep(r.metric, r.period)) continue;
    out.push({
      institution: r.institution_code,
      metric: r.metric,
      period: r.period,
      value: Number(r.value),
      submissionId: Number(r.submission_id),
    });
  }
}

async function copyRows(
  client: pg.PoolClient,
  statement: string,
  out: Observation[],
  keep?: (metric: string, period: string) => boolean,
): Promise<void> {
  // Codes and periods repeat on every row: one string each, so the evaluator's maps hash each once
  // (a slice of the chunk would be hashed, and keep the chunk alive, row after row).
  const strings = new Map<string, string>();
  const intern = (text: string): string => {
    const seen = strings.get(text);
    if (seen !== undefined) return seen;
    const own = ` ${text}`.slice(1);
    strings.set(own, own);
    return own;
  };
  // Rows come submission by submission: the institution, period and submission of a row are most often
  // the previous row's, recognised in place without slicing.
  let institution = '';
  let period = '';
  let submission = '';
  let submissionId = 0;
  await copyRowsOut(client, statement, (text, start, nl) => {
    const a = text.indexOf('\t', start);
    const b = text.indexOf('\t', a + 1);
    const c = text.indexOf('\t', b + 1);
    const d = text.indexOf('\t', c + 1);
    // Text format: no column here can hold a tab, newline or backslash (codes, periods, numbers).
    if (a - start !== institution.length || !text.startsWith(institution, start))
      institution = intern(text.slice(start, a));
    if (c - b - 1 !== period.length || !text.startsWith(period, b + 1)) period = intern(text.slice(b + 1, c));
    const metric = intern(text.slice(a + 1, b));
    if (keep && !keep(metric, period)) return;
    if (nl - d - 1 !== submission.length || !text.startsWith(submission, d + 1)) {
      submission = text.slice(d + 1, nl);
      submissionId = Number(submission);
    }
    out.push({ institution, metric, period, value: Number(text.slice(c + 1, d)), submissionId });
  });
}

/**
 * The peers for peer-outlier rules: every institution of the given types with its current observations
 * of the metrics in the given periods (the latest an upload judges; the institutions it judges among
 * them, which the evaluator counts with their own observations). Institutions come with what a peer
 * group needs (code, type, county, attributes).
 */
export async function loadPeers(
  db: Kysely<Database>,
  metrics: readonly string[],
  periods: readonly string[],
  types: readonly string[],
): Promise<{ institutions: InstitutionRef[]; observations: Observation[] }> {
  if (metrics.length === 0 || periods.length === 0 || types.length === 0)
    return { institutions: [], observations: [] };
  const { rows } = await sql<{
    institution_code: string;
    type: string;
    county: string;
    attributes: Record<string, unknown>;
    metric: string;
    period: string;
    value: number;
    submission_id: number;
  }>`WITH s AS MATERIALIZED (
      SELECT s.id, i.type, i.county, i.attributes FROM submissions AS s
      JOIN institutions AS i ON i.code = s.institution_code AND i.type = ANY(${types}::text[])
      WHERE s.is_current AND s.period = ANY(${periods}::text[])
    )
    SELECT o.institution_code, s.type, s.county, s.attributes, o.metric, o.period, o.value, o.submission_id
    FROM s CROSS JOIN LATERAL (
      SELECT institution_code, metric, period, value, submission_id FROM observations
      WHERE submission_id = s.id AND metric = ANY(${metrics}::text[]) OFFSET 0
    ) AS o`.execute(db);
  const institutions = new Map<string, InstitutionRef>();
  const observations: Observation[] = [];
  for (const r of rows) {
    if (!institutions.has(r.institution_code))
      institutions.set(r.institution_code, {
        code: r.institution_code,
        name: '',
        type: r.type,
        county: r.county,
        // A rule's `where` selects its peers by attribute as it selects the institutions it judges.
        attributes: r.attributes,
      });
    observations.push({
      institution: r.institution_code,
      metric: r.metric,
      period: r.period,
      value: Number(r.value),
      submissionId: Number(r.submission_id),
    });
  }
  return { institutions: [...institutions.values()], observations };
}

/**
 * The current submissions of every institution for some periods (what missing-filing and missing-data
 * rules read in a windowed evaluation): by `COPY … TO STDOUT` on PostgreSQL, a row each otherwise.
 */
export async function loadPeriodFilings(db: Kysely<Database>, periods: readonly string[]): Promise<Filing[]> {
  if (periods.length === 0) return [];
  const statement = `SELECT institution_code, period, id FROM submissions
    WHERE is_current AND period = ANY(${literalArray(periods)})`;
  const client = transactionClient();
  const out: Filing[] = [];
  if (!client) {
    const { rows } = await sql.raw(statement).execute(db);
    for (const r of rows as { institution_code: string; period: string; id: number }[])
      out.push({ institution: r.institution_code, period: r.period, submissionId: Number(r.id) });
    return out;
  }
  const periodOf = new Map(periods.map((p) => [p, p]));
  await copyRowsOut(client, statement, (text, start, nl) => {
    const a = text.indexOf('\t', start);
    const b = text.indexOf('\t', a + 1);
    const period = text.slice(a + 1, b);
    out.push({
      institution: text.slice(start, a),
      period: periodOf.get(period) ?? period,
      submissionId: Number(text.slice(b + 1, nl)),
    });
  });
  return out;
}
