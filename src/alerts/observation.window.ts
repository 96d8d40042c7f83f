import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { FREQUENCIES, type Frequency, parsePeriod } from '../catalog/period.js';
import type { Database } from '../db/schema.js';
import { transactionClient } from '../db/transaction-client.js';
import type { InstitutionRef, Observation } from '../rules/evaluate.js';

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

/**
 * The current observations of every institution for the given periods of each metric (a window from
 * `historyWindow`), in as few statements as there are distinct period lists. On PostgreSQL inside
 * `withTransactionClient` the rows come through `COPY … TO STDOUT`, parsed as they stream: at national
 * scale a window is hundreds of thousands of rows, and the row protocol costs several times more.
 */
export async function loadWindowObservations(
  db: Kysely<Database>,
  window: ReadonlyMap<string, readonly string[]>,
): Promise<Observation[]> {
  const groups = new Map<string, { periods: readonly string[]; metrics: string[] }>();
  for (const [metric, periods] of window) {
    if (periods.length === 0) continue;
    const key = periods.join(',');
    const group = groups.get(key);
    if (group) group.metrics.push(metric);
    else groups.set(key, { periods, metrics: [metric] });
  }
  const client = transactionClient();
  const out: Observation[] = [];
  for (const { periods, metrics } of groups.values()) {
    if (client) await copyWindow(client, periods, metrics, out);
    else await selectWindow(db, periods, metrics, out);
  }
  return out;
}

/**
 * The statement both engines run: each current submission of the periods, then its observations of
 * the metrics by the primary key (a lateral join, so the planner does not trade the key lookups for a
 * scan of the whole table).
 */
function windowSql(periods: readonly string[], metrics: readonly string[]) {
  return sql`SELECT o.institution_code, o.metric, o.period, o.value, o.submission_id
    FROM submissions AS s
    CROSS JOIN LATERAL (
      SELECT institution_code, metric, period, value, submission_id FROM observations
      WHERE submission_id = s.id AND metric = ANY(${metrics}::text[])
    ) AS o
    WHERE s.is_current AND s.period = ANY(${periods}::text[])`;
}

async function selectWindow(
  db: Kysely<Database>,
  periods: readonly string[],
  metrics: readonly string[],
  out: Observation[],
): Promise<void> {
  const { rows } = await windowSql(periods, metrics).execute(db);
  for (const r of rows as {
    institution_code: string;
    metric: string;
    period: string;
    value: number;
    submission_id: number;
  }[]) {
    out.push({
      institution: r.institution_code,
      metric: r.metric,
      period: r.period,
      value: Number(r.value),
      submissionId: Number(r.submission_id),
    });
  }
}

/** A text literal for COPY, which takes no parameters: codes and periods are validated identifiers. */
function literalArray(values: readonly string[]): string {
  for (const v of values) {
    if (!/^[A-Za-z0-9_:-]+$/.test(v)) throw new Error(`not a code or period: ${JSON.stringify(v)}`);
  }
  return `'{${values.join(',')}}'::text[]`;
}

async function copyWindow(
  client: pg.PoolClient,
  periods: readonly string[],
  metrics: readonly string[],
  out: Observation[],
): Promise<void> {
  const statement = `COPY (SELECT o.institution_code, o.metric, o.period, o.value, o.submission_id
    FROM submissions AS s
    CROSS JOIN LATERAL (
      SELECT institution_code, metric, period, value, submission_id FROM observations
      WHERE submission_id = s.id AND metric = ANY(${literalArray(metrics)})
    ) AS o
    WHERE s.is_current AND s.period = ANY(${literalArray(periods)})) TO STDOUT`;
  const stream = client.query(copyTo(statement));
  let rest = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const text = rest + chunk.toString('utf8');
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      const a = text.indexOf('\t', start);
      const b = text.indexOf('\t', a + 1);
      const c = text.indexOf('\t', b + 1);
      const d = text.indexOf('\t', c + 1);
      // Text format: no column here can hold a tab, newline or backslash (codes, periods, numbers).
      out.push({
        institution: text.slice(start, a),
        metric: text.slice(a + 1, b),
        period: text.slice(b + 1, c),
        value: Number(text.slice(c + 1, d)),
        submissionId: Number(text.slice(d + 1, nl)),
      });
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  if (rest) throw new Error('COPY ended in the middle of a row');
}

/**
 * The peers of an upload's institutions for peer-outlier rules: every institution of the given types
 * other than those, with its current observations of the metrics in the given periods (the latest the
 * upload judges). Institutions come with what a peer group needs (code, type, county).
 */
export async function loadPeers(
  db: Kysely<Database>,
  metrics: readonly string[],
  periods: readonly string[],
  types: readonly string[],
  except: ReadonlySet<string>,
): Promise<{ institutions: InstitutionRef[]; observations: Observation[] }> {
  if (metrics.length === 0 || periods.length === 0 || types.length === 0)
    return { institutions: [], observations: [] };
  const { rows } = await sql<{
    institution_code: string;
    type: string;
    county: string;
    metric: string;
    period: string;
    value: number;
    submission_id: number;
  }>`SELECT o.institution_code, i.type, i.county, o.metric, o.period, o.value, o.submission_id
    FROM submissions AS s
    JOIN institutions AS i ON i.code = s.institution_code AND i.type = ANY(${types}::text[])
    CROSS JOIN LATERAL (
      SELECT institution_code, metric, period, value, submission_id FROM observations
      WHERE submission_id = s.id AND metric = ANY(${metrics}::text[])
    ) AS o
    WHERE s.is_current AND s.period = ANY(${periods}::text[])`.execute(db);
  const institutions = new Map<string, InstitutionRef>();
  const observations: Observation[] = [];
  for (const r of rows) {
    if (except.has(r.institution_code)) continue;
    if (!institutions.has(r.institution_code))
      institutions.set(r.institution_code, {
        code: r.institution_code,
        name: '',
        type: r.type,
        county: r.county,
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
