import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import type { InstitutionRef, Observation, PeerInput } from '../rules/evaluate.js';
import { LayeredMap } from './layered-map.js';
import { loadPeers } from './observation.window.js';

/** The peers of an upload's institutions for peer-outlier rules (see {@link loadPeers}), indexed. */
export type Peers = PeerInput;

/** Observations by metric, then institution code: the peers' series. */
type ByMetric = ReadonlyMap<string, LayeredMap<Observation[]>>;

/** Where a set of peers came from: kept as it was, brought up to date with what changed, or read whole. */
export type PeerSource = 'cache' | 'refreshed' | 'read';

/** A set of peers and what it was made of, checked before it is used again. */
interface Entry {
  readonly databaseId: string;
  /** `change_epochs.institutions` when it was read. */
  readonly epoch: number;
  /** Per period: the current submission id of every institution (of every type, not only the peers'). */
  readonly ids: ReadonlyMap<string, LayeredMap<number>>;
  /** Per period: the sum of those ids. */
  readonly totals: ReadonlyMap<string, number>;
  /** The largest id seen: submissions made later have larger ids. */
  readonly maxId: number;
  /**
   * Institutions whose current submission was written by the transaction that read it (`xmin`), so not
   * committed then, and perhaps never: every other id is committed, hence never larger than what any
   * later transaction sees for that institution. A set with a tentative institution that the caller
   * does not judge is refreshed before use, which reads their current ids again.
   */
  readonly tentative: ReadonlySet<string>;
  /** The peers' observations by metric and code, and their refs by code. */
  readonly byMetric: ByMetric;
  readonly refs: LayeredMap<InstitutionRef>;
  readonly peers: Peers;
}

/**
 * Peers kept between uploads. An upload judges peer-outlier rules against every other institution of its
 * types in the latest period (9,000 rural commercial banks nationally): reading them whole costs
 * 50–100 ms, most of what an upload's evaluation costs, and between two uploads few of them change.
 *
 * A set is used only when, in the caller's transaction, nothing it is made of has changed: the same
 * database (`change_epochs.database_id`), the same institutions epoch (moved on by any write to
 * `institutions`), and for every period the same count and sum of ids of the current submissions of
 * the institutions other than those judged. Submissions are never deleted and a new version always has
 * a larger id than the one it supersedes, so the pair changes whenever the set does; the institutions
 * judged are left out because their own new versions, in the caller's transaction, are not peers. One
 * statement, from the index on `(period, id)`: ~3 ms for 30,000 submissions.
 *
 * When only submissions changed (another institution filed), the set is **refreshed**: the current
 * submissions with an id above the largest seen, and those of institutions refreshed before, are read
 * with their values, and the check runs again. A version made before the set was read but committed
 * after it has a smaller id and is not found so; the check then fails and the set is read whole. Ids
 * the reading transaction wrote itself (`xmin`: an upload's own version, or a bulk import's) are kept as
 * tentative, since they may roll back: other transactions refresh them before trusting the set. A
 * set is never older than the check it passed: each is read in the order epoch, submissions, values,
 * each statement seeing at least what the one before saw.
 */
export class PeerCache {
  private readonly entries = new Map<string, Entry>();

  /** @param capacity sets kept (the least recently used goes first): one per period and rule set, in practice. */
  constructor(private readonly capacity = 4) {}

  /**
   * The peers {@link loadPeers} would read now: kept, refreshed or read whole (see the class). The
   * institutions in `except` may be among them (the evaluator judges an institution in scope with its
   * own observations, never as a peer); a set served again is the same object, so the evaluator
   * indexes it once.
   */
  async peers(
    db: Kysely<Database>,
    metrics: readonly string[],
    periods: readonly string[],
    types: readonly string[],
    except: ReadonlySet<string>,
  ): Promise<{ readonly peers: Peers; readonly source: PeerSource }> {
    if (metrics.length === 0 || periods.length === 0 || types.length === 0)
      return { peers: { institutions: [], observations: [] }, source: 'read' };
    const key = [metrics, periods, types].map((list) => [...new Set(list)].sort().join(',')).join('|');
    const kept = this.entries.get(key);
    if (kept) {
      const check = await compare(db, kept, periods, except);
      if (check === 'same') return { peers: this.keep(key, kept).peers, source: 'cache' };
      if (check === 'submissions') {
        const refreshed = await refresh(db, kept, metrics, periods, types);
        if ((await compare(db, refreshed, periods, except)) === 'same')
          return { peers: this.keep(key, refreshed).peers, source: 'refreshed' };
      }
    }
    const entry = await readWhole(db, metrics, periods, types);
    // Without its epoch row (removed by hand) nothing says when institutions change: nothing is kept.
    if (!entry) return { peers: await loadPeers(db, metrics, periods, types), source: 'read' };
    return { peers: this.keep(key, entry).peers, source: 'read' };
  }

  /** Forgets every set (tests). */
  clear(): void {
    this.entries.clear();
  }

  private keep(key: string, entry: Entry): Entry {
    // Most recently used last.
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return entry;
  }
}

/** Whether a row of `table` was written by the transaction reading it (false when it has written nothing). */
const writtenHere = (table: string) =>
  sql<boolean>`coalesce(${sql.ref(`${table}.xmin`)} = pg_current_xact_id_if_assigned()::xid, false)`;

/** The cache of the process: sets are told apart by database, so one serves every database opened. */
export const peerCache = new PeerCache();

async function readWhole(
  db: Kysely<Database>,
  metrics: readonly string[],
  periods: readonly string[],
  types: readonly string[],
): Promise<Entry | undefined> {
  const epoch = await db
    .selectFrom('change_epochs')
    .select([sql<string>`database_id::text`.as('database_id'), 'institutions'])
    .executeTakeFirst();
  if (!epoch) return undefined;
  const rows = await db
    .selectFrom('submissions')
    .select(['institution_code', 'period', 'id', writtenHere('submissions').as('own')])
    .where('is_current', '=', true)
    .where('period', '=', sql<string>`ANY(${[...periods]}::text[])`)
    .execute();
  const ids = new Map<string, Map<string, number>>(periods.map((p) => [p, new Map()]));
  const tentative = new Set<string>();
  let maxId = 0;
  for (const r of rows) {
    const id = Number(r.id);
    ids.get(r.period)?.set(r.institution_code, id);
    if (id > maxId) maxId = id;
    if (r.own) tentative.add(r.institution_code);
  }
  const loaded = await loadPeers(db, metrics, periods, types);
  const series = new Map<string, Map<string, Observation[]>>();
  for (const o of loaded.observations) add(series, o);
  const byMetric = new Map([...series].map(([m, of]) => [m, LayeredMap.of(of)]));
  const refs = LayeredMap.of(new Map(loaded.institutions.map((i) => [i.code, i])));
  return {
    databaseId: epoch.database_id,
    epoch: Number(epoch.institutions),
    ids: new Map([...ids].map(([p, of]) => [p, LayeredMap.of(of)])),
    totals: totalsOf(ids),
    maxId,
    tentative,
    byMetric,
    refs,
    peers: peersOf(byMetric, refs),
  };
}

function add(byMetric: Map<string, Map<string, Observation[]>>, o: Observation): void {
  let of = byMetric.get(o.metric);
  if (!of) {
    of = new Map();
    byMetric.set(o.metric, of);
  }
  const list = of.get(o.institution);
  if (list) list.push(o);
  else of.set(o.institution, [o]);
}

/** The peers as the evaluator reads them: indexed already, the lists made only if asked for. */
function peersOf(byMetric: ByMetric, refs: LayeredMap<InstitutionRef>): Peers {
  let institutions: InstitutionRef[] | undefined;
  let observations: Observation[] | undefined;
  return {
    get institutions() {
      institutions ??= [...refs.values()];
      return institutions;
    },
    get observations() {
      observations ??= [...byMetric.values()].flatMap((of) => [...of.values()].flat());
      return observations;
    },
    index: { institutions: refs, series: byMetric },
  };
}

/**
 * The entry brought up to date with the submissions made since (ids above the largest seen) and the
 * current ones of institutions refreshed before: a new entry, the old one left as it is for whoever
 * still reads it.
 */
async function refresh(
  db: Kysely<Database>,
  entry: Entry,
  metrics: readonly string[],
  periods: readonly string[],
  types: readonly string[],
): Promise<Entry> {
  const tentative = [...entry.tentative];
  const { rows } = await sql<{
    institution_code: string;
    period: string;
    id: number;
    type: string;
    county: string;
    attributes: Record<string, unknown>;
    own: boolean;
  }>`WITH s AS MATERIALIZED (
      SELECT institution_code, period, id, ${writtenHere('submissions')} AS own FROM submissions
      WHERE is_current AND period = ANY(${[...periods]}::text[])
        AND (id > ${entry.maxId} OR institution_code = ANY(${tentative}::text[]))
    )
    -- One lookup per institution found: they are few, and a hash join would read every institution.
    SELECT s.institution_code, s.period, s.id, s.own, i.type, i.county, i.attributes
    FROM s CROSS JOIN LATERAL (
      SELECT type, county, attributes FROM institutions WHERE code = s.institution_code
    ) AS i`.execute(db);
  const peerTypes = new Set(types);
  const ofPeers = rows.filter((r) => peerTypes.has(r.type)).map((r) => Number(r.id));
  const values =
    ofPeers.length === 0
      ? []
      : await db
          .selectFrom('observations')
          .select(['institution_code', 'metric', 'period', 'value', 'submission_id'])
          .where('submission_id', '=', sql<number>`ANY(${ofPeers}::bigint[])`)
          .where('metric', '=', sql<string>`ANY(${[...metrics]}::text[])`)
          .execute();

  // Changes made on layers over the entry's maps: the entry stays as it is for whoever still reads it.
  const ids = new Map([...entry.ids].map(([p, of]) => [p, of.edit()]));
  const series = new Map([...entry.byMetric].map(([m, of]) => [m, of.edit()]));
  const refs = entry.refs.edit();
  const totals = new Map(entry.totals);
  const changed = new Set<string>(tentative);
  const own = new Set<string>();
  // Each changed institution's values of the period go; those of its current submission come back.
  const drop = (code: string, period: string) => {
    for (const of of series.values()) {
      const list = of.get(code);
      if (!list) continue;
      const kept = list.filter((o) => o.period !== period);
      if (kept.length === 0) of.delete(code);
      else if (kept.length !== list.length) of.set(code, kept);
    }
  };
  // A tentative institution without a current submission now: its refreshed version rolled back.
  const forget = (code: string, period: string) => {
    const of = ids.get(period);
    const id = of?.get(code);
    if (of && id !== undefined) {
      of.delete(code);
      totals.set(period, (totals.get(period) ?? 0) - id);
    }
    drop(code, period);
  };
  for (const code of tentative) for (const p of periods) forget(code, p);
  let maxId = entry.maxId;
  for (const r of rows) {
    const id = Number(r.id);
    forget(r.institution_code, r.period);
    ids.get(r.period)?.set(r.institution_code, id);
    totals.set(r.period, (totals.get(r.period) ?? 0) + id);
    if (id > maxId) maxId = id;
    changed.add(r.institution_code);
    if (r.own) own.add(r.institution_code);
    if (peerTypes.has(r.type))
      refs.set(r.institution_code, {
        code: r.institution_code,
        name: '',
        type: r.type,
        county: r.county,
        attributes: r.attributes,
      });
  }
  for (const v of values) {
    let of = series.get(v.metric);
    if (!of) {
      of = LayeredMap.of(new Map<string, Observation[]>()).edit();
      series.set(v.metric, of);
    }
    // A new list: the entry's lists are still read by evaluations that hold it.
    of.set(v.institution_code, [
      ...(of.get(v.institution_code) ?? []),
      {
        institution: v.institution_code,
        metric: v.metric,
        period: v.period,
        value: Number(v.value),
        submissionId: Number(v.submission_id),
      },
    ]);
  }
  // Peers with no value left (a rolled-back first filing) are no longer peers.
  for (const code of changed) {
    if (![...series.values()].some((of) => of.has(code))) refs.delete(code);
  }
  const byMetric = new Map([...series].map(([m, of]) => [m, of.done()]));
  const refsNow = refs.done();
  return {
    databaseId: entry.databaseId,
    epoch: entry.epoch,
    ids: new Map([...ids].map(([p, of]) => [p, of.done()])),
    totals,
    maxId,
    tentative: own,
    byMetric,
    refs: refsNow,
    peers: peersOf(byMetric, refsNow),
  };
}

function totalsOf(ids: ReadonlyMap<string, ReadonlyMap<string, number>>): Map<string, number> {
  const totals = new Map<string, number>();
  for (const [period, of] of ids) {
    let total = 0;
    for (const id of of.values()) total += id;
    totals.set(period, total);
  }
  return totals;
}

/**
 * Whether what `entry` was made of is still what the caller's transaction sees, `except` left out:
 * `same`, `submissions` (only the current submissions differ) or `stale` (another database, or
 * institutions changed).
 */
async function compare(
  db: Kysely<Database>,
  entry: Entry,
  periods: readonly string[],
  except: ReadonlySet<string>,
): Promise<'same' | 'submissions' | 'stale'> {
  const codes = [...except];
  // A tentative id may never commit and then be larger than what the caller sees, and equal sums would
  // prove nothing; unless the caller wrote it itself (it sees what the set holds). Those of the
  // institutions judged are left out of both sides.
  const unsure = [...entry.tentative].filter((code) => !except.has(code));
  const { rows } = await sql<{
    kind: 'epoch' | 'period' | 'judged' | 'tentative';
    name: string;
    code: string | null;
    n: number;
    total: number;
  }>`
    SELECT 'epoch' AS kind, database_id::text AS name, NULL AS code, institutions::float8 AS n, 0::float8 AS total
      FROM change_epochs
    UNION ALL
    SELECT 'period', period, NULL, count(*)::float8, coalesce(sum(id), 0)::float8 FROM submissions
      WHERE is_current AND period = ANY(${[...periods]}::text[]) GROUP BY period
    UNION ALL
    SELECT 'judged', period, NULL, 1, id::float8 FROM submissions
      WHERE is_current AND period = ANY(${[...periods]}::text[]) AND institution_code = ANY(${codes}::text[])
    UNION ALL
    SELECT 'tentative', period, institution_code, CASE WHEN ${writtenHere('submissions')} THEN 1 ELSE 0 END, id::float8
      FROM submissions
      WHERE is_current AND period = ANY(${[...periods]}::text[]) AND institution_code = ANY(${unsure}::text[])`.execute(
    db,
  );
  const now = new Map<string, { n: number; total: number }>(periods.map((p) => [p, { n: 0, total: 0 }]));
  let same = false;
  let ownSeen = 0;
  for (const r of rows) {
    if (r.kind === 'epoch') {
      same = r.name === entry.databaseId && Number(r.n) === entry.epoch;
      continue;
    }
    if (r.kind === 'tentative') {
      // Written here, and the very id the set holds: exact for this caller.
      if (Number(r.n) === 1 && entry.ids.get(r.name)?.get(r.code as string) === Number(r.total)) ownSeen++;
      continue;
    }
    const seen = now.get(r.name);
    if (!seen) continue;
    const sign = r.kind === 'judged' ? -1 : 1;
    seen.n += sign * Number(r.n);
    seen.total += sign * Number(r.total);
  }
  if (!same) return 'stale';
  let held = 0;
  for (const code of unsure) for (const of of entry.ids.values()) if (of.has(code)) held++;
  if (ownSeen !== held) return 'submissions';
  for (const [period, seen] of now) {
    const then = entry.ids.get(period);
    if (!then) return 'stale';
    let n = then.size;
    let total = entry.totals.get(period) ?? 0;
    for (const code of codes) {
      const id = then.get(code);
      if (id === undefined) continue;
      n--;
      total -= id;
    }
    if (n !== seen.n || total !== seen.total) return 'submissions';
  }
  return 'same';
}
