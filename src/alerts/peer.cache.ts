import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import type { InstitutionRef, Observation, PeerInput } from '../rules/evaluate.js';
import { loadPeers } from './observation.window.js';

/** The peers of an upload's institutions for peer-outlier rules (see {@link loadPeers}), indexed. */
export type Peers = PeerInput;

/** Observations by metric, then institution code: the peers' series. */
type ByMetric = ReadonlyMap<string, ReadonlyMap<string, Observation[]>>;

/** Where a set of peers came from: kept as it was, brought up to date with what changed, or read whole. */
export type PeerSource = 'cache' | 'refreshed' | 'read';

/** A set of peers and what it was made of, checked before it is used again. */
interface Entry {
  readonly databaseId: string;
  /** `change_epochs.institutions` when it was read. */
  readonly epoch: number;
  /** Per period: the current submission id of every institution (of every type, not only the peers'). */
  readonly ids: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** Per period: the sum of those ids. */
  readonly totals: ReadonlyMap<string, number>;
  /** The largest id seen: submissions made later have larger ids. */
  readonly maxId: number;
  /**
   * Institutions whose id a refresh read in the transaction judging them: perhaps its own version, not
   * committed, that may roll back. The next refresh reads their current ids again.
   */
  readonly tentative: ReadonlySet<string>;
  /** The peers' observations by metric and code, and their refs by code. */
  readonly byMetric: ByMetric;
  readonly refs: ReadonlyMap<string, InstitutionRef>;
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
 * after it has a smaller id and is not found so; the check then fails and the set is read whole. A
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
        const refreshed = await refresh(db, kept, metrics, periods, types, except);
        if ((await compare(db, refreshed, periods, except)) === 'same')
          return { peers: this.keep(key, refreshed).peers, source: 'refreshed' };
      }
    }
    const entry = await readWhole(db, metrics, periods, types);
    // Without its epoch row (removed by hand) nothing says when institutions change: nothing is kept.
    if (!entry) return { peers: await loadPeers(db, metrics, periods, types, new Set()), source: 'read' };
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
    .select(['institution_code', 'period', 'id'])
    .where('is_current', '=', true)
    .where('period', '=', sql<string>`ANY(${[...periods]}::text[])`)
    .execute();
  const ids = new Map<string, Map<string, number>>(periods.map((p) => [p, new Map()]));
  let maxId = 0;
  for (const r of rows) {
    const id = Number(r.id);
    ids.get(r.period)?.set(r.institution_code, id);
    if (id > maxId) maxId = id;
  }
  const loaded = await loadPeers(db, metrics, periods, types, new Set());
  const byMetric = new Map<string, Map<string, Observation[]>>();
  for (const o of loaded.observations) add(byMetric, o);
  const refs = new Map(loaded.institutions.map((i) => [i.code, i]));
  return {
    databaseId: epoch.database_id,
    epoch: Number(epoch.institutions),
    ids,
    totals: totalsOf(ids),
    maxId,
    tentative: new Set(),
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

function addCopying(byMetric: Map<string, Map<string, Observation[]>>, o: Observation): void {
  let of = byMetric.get(o.metric);
  if (!of) {
    of = new Map();
    byMetric.set(o.metric, of);
  }
  of.set(o.institution, [...(of.get(o.institution) ?? []), o]);
}

/** The peers as the evaluator reads them: indexed already, the lists made only if asked for. */
function peersOf(byMetric: ByMetric, refs: ReadonlyMap<string, InstitutionRef>): Peers {
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
  except: ReadonlySet<string>,
): Promise<Entry> {
  const tentative = [...entry.tentative];
  const { rows } = await sql<{
    institution_code: string;
    period: string;
    id: number;
    type: string;
    county: string;
    attributes: Record<string, unknown>;
  }>`SELECT s.institution_code, s.period, s.id, i.type, i.county, i.attributes
    FROM submissions AS s JOIN institutions AS i ON i.code = s.institution_code
    WHERE s.is_current AND s.period = ANY(${[...periods]}::text[])
      AND (s.id > ${entry.maxId} OR s.institution_code = ANY(${tentative}::text[]))`.execute(db);
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

  const ids = new Map([...entry.ids].map(([p, m]) => [p, new Map(m)]));
  const byMetric = new Map([...entry.byMetric].map(([m, of]) => [m, new Map(of)]));
  const refs = new Map(entry.refs);
  const changed = new Set<string>(tentative);
  const judged = new Set<string>();
  // Each changed institution's values of the period go; those of its current submission come back.
  const drop = (code: string, period: string) => {
    for (const of of byMetric.values()) {
      const list = of.get(code);
      if (!list) continue;
      const kept = list.filter((o) => o.period !== period);
      if (kept.length === 0) of.delete(code);
      else if (kept.length !== list.length) of.set(code, kept);
    }
  };
  // A tentative institution without a current submission now: its refreshed version rolled back.
  for (const code of tentative) {
    for (const p of periods) {
      ids.get(p)?.delete(code);
      drop(code, p);
    }
  }
  let maxId = entry.maxId;
  for (const r of rows) {
    const id = Number(r.id);
    ids.get(r.period)?.set(r.institution_code, id);
    drop(r.institution_code, r.period);
    if (id > maxId) maxId = id;
    changed.add(r.institution_code);
    if (except.has(r.institution_code)) judged.add(r.institution_code);
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
    // A new list: the old entry's lists are still read by evaluations that hold it.
    addCopying(byMetric, {
      institution: v.institution_code,
      metric: v.metric,
      period: v.period,
      value: Number(v.value),
      submissionId: Number(v.submission_id),
    });
  }
  // Peers with no value left (a rolled-back first filing) are no longer peers.
  for (const code of changed) {
    if (![...byMetric.values()].some((of) => of.has(code))) refs.delete(code);
  }
  return {
    databaseId: entry.databaseId,
    epoch: entry.epoch,
    ids,
    totals: totalsOf(ids),
    maxId,
    tentative: judged,
    byMetric,
    refs,
    peers: peersOf(byMetric, refs),
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
  const { rows } = await sql<{ kind: 'epoch' | 'period' | 'judged'; name: string; n: number; total: number }>`
    SELECT 'epoch' AS kind, database_id::text AS name, institutions::float8 AS n, 0::float8 AS total
      FROM change_epochs
    UNION ALL
    SELECT 'period', period, count(*)::float8, coalesce(sum(id), 0)::float8 FROM submissions
      WHERE is_current AND period = ANY(${[...periods]}::text[]) GROUP BY period
    UNION ALL
    SELECT 'judged', period, 1, id::float8 FROM submissions
      WHERE is_current AND period = ANY(${[...periods]}::text[]) AND institution_code = ANY(${codes}::text[])`.execute(
    db,
  );
  const now = new Map<string, { n: number; total: number }>(periods.map((p) => [p, { n: 0, total: 0 }]));
  let same = false;
  for (const r of rows) {
    if (r.kind === 'epoch') {
      same = r.name === entry.databaseId && Number(r.n) === entry.epoch;
      continue;
    }
    const seen = now.get(r.name);
    if (!seen) continue;
    const sign = r.kind === 'judged' ? -1 : 1;
    seen.n += sign * Number(r.n);
    seen.total += sign * Number(r.total);
  }
  if (!same) return 'stale';
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
