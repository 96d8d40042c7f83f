import type { Kysely } from 'kysely';
import type { Catalog } from '../catalog/catalog.js';
import { comparePeriods, type Frequency } from '../catalog/period.js';
import { lockInstitutions } from '../db/advisory-locks.js';
import { anyOf } from '../db/any-of.js';
import type { Database } from '../db/schema.js';
import { filingDueDay } from '../filing/deadline.js';
import { startOfZonedDay } from '../filing/zoned-day.js';
import { enqueueNotifications, type NotificationItem } from '../notify/outbox.repository.js';
import type { Route } from '../notify/routes.js';
import {
  type EvaluationInput,
  type EvaluationResult,
  evaluate,
  type Filing,
  type InstitutionRef,
  type Observation,
  type RuleHealth,
} from '../rules/evaluate.js';
import { judgementOf } from '../rules/rule.derived.js';
import { FILING_NAMES, filingFrequencyOf, filingPeriodsToLoad } from '../rules/rule.filing.js';
import { regionKey, regionName } from '../rules/rule.region-ref.js';
import type { Rule } from '../rules/rule.schema.js';
import { loadActiveAlerts, type RecordedTransition, recordTransitions } from './alert.repository.js';
import { type ActiveAlert, NOTIFIED_KINDS, type Transition } from './alert.types.js';
import type { InhibitRule } from './inhibition.js';
import { clearAcknowledgementsOnEscalation, withoutClosedBreaches } from './lifecycle.repository.js';
import { peerCache } from './peer.cache.js';
import { withoutSuppressed } from './suppression.service.js';

/** The configuration an evaluation runs with: one consistent snapshot of catalog, rules and routes. */
export interface RulesSnapshot {
  readonly catalog: Catalog;
  readonly rules: readonly Rule[];
  readonly routes: readonly Route[];
  /** `inhibitions.yaml`: which firing alerts hold back which others' notifications. */
  readonly inhibitions: readonly InhibitRule[];
  /** The regulator's IANA time zone (`TIME_ZONE`), where filing deadlines fall. */
  readonly timeZone: string;
  /**
   * sha256 of the rule files this snapshot was loaded from; every alert event an evaluation records
   * carries it, so a transition can always be traced to the rules that decided it.
   */
  readonly hash: string;
}

/** Told about every evaluation, for metrics and rule health. */
export interface EvaluationObserver {
  evaluated(durationSeconds: number, health: readonly RuleHealth[]): void;
}

/**
 * Evaluates the rules for some institutions inside the caller's transaction and stores the result:
 * alert rows, alert events and notification outbox rows commit or roll back together.
 * Institutions are locked (transaction-scoped advisory locks taken in one fixed order, so two
 * evaluations never interleave and never deadlock). The three steps are
 * {@link loadEvaluationInputs}, {@link evaluateInputs} and {@link recordEvaluation}.
 */
export async function evaluateInstitutions(
  trx: Kysely<Database>,
  snapshot: RulesSnapshot,
  codes: readonly string[],
  now: Date,
  actor: string,
  observer?: EvaluationObserver,
  /**
   * Observations of these institutions that the caller stores in this transaction after the
   * evaluation: an upload evaluates its new versions (already inserted) with their values from memory
   * rather than reading back what it has just written. Only metrics some rule reads are used.
   */
  pending: readonly Observation[] = [],
): Promise<RecordedTransition[]> {
  const inputs = await loadEvaluationInputs(trx, snapshot, codes, now, pending);
  if (!inputs) return [];
  return recordEvaluation(trx, snapshot, inputs, evaluateInputs(snapshot, inputs, now), actor, observer);
}

/** What evaluating some institutions reads, loaded by {@link loadEvaluationInputs}. */
export interface EvaluationInputs {
  /** The rules judged here: every rule but the region-aggregate ones (the schedule judges regions). */
  readonly rules: readonly Rule[];
  readonly institutions: readonly InstitutionRef[];
  readonly observations: readonly Observation[];
  readonly previous: readonly ActiveAlert[];
  readonly filings: readonly Filing[];
  /** Peer-outlier rules' peers and the latest period they are judged in (see `peersOf`). */
  readonly peers?: EvaluationInput['peers'];
  readonly window?: EvaluationInput['window'];
  /** Region-aggregate rules' totals: only the scheduled evaluation, which has every institution, judges regions. */
  readonly regionTotals?: EvaluationInput['regionTotals'];
  /** Seconds spent reading, counted into the duration the observer is told. */
  readonly seconds: number;
}

/** An evaluation not yet recorded: {@link evaluateInputs}' result and how long it took. */
export interface PendingEvaluation {
  readonly result: EvaluationResult;
  readonly seconds: number;
}

/**
 * Locks the institutions and reads what evaluating them needs (their refs, the current observations of
 * the metrics some rule reads, plus `pending`; their active alerts; the filings missing-filing rules
 * look at). Reads only: an upload can write its values on the same connection once this has returned,
 * while {@link evaluateInputs} runs. `undefined` when `codes` is empty.
 */
export async function loadEvaluationInputs(
  trx: Kysely<Database>,
  snapshot: RulesSnapshot,
  codes: readonly string[],
  now: Date,
  pending: readonly Observation[] = [],
): Promise<EvaluationInputs | undefined> {
  const sorted = [...new Set(codes)].sort();
  if (sorted.length === 0) return undefined;
  await lockInstitutions(trx, sorted);
  const started = performance.now();
  const { catalog, timeZone } = snapshot;
  // Regions are judged by the scheduled evaluation, never here: every upload of a county would
  // otherwise wait for every other to judge the county's and the city's alerts.
  const rules = snapshot.rules.filter((r) => r.kind !== 'region_aggregate');
  const [institutions, observations, previous] = await Promise.all([
    loadInstitutionRefs(trx, sorted, timeZone),
    // Only the metrics some rule reads: a bulk import of 20 metrics for 30,000 banks need not read
    // 600,000 values back to evaluate the handful of ratios the rules watch.
    loadCurrentObservations(trx, sorted, [...ruleMetrics(rules)]),
    loadActiveAlerts(trx, sorted),
  ]);
  // Missing-data rules read every period filed (over the whole history, like the other kinds).
  const periods = rules.some((r) => r.kind === 'missing_data')
    ? undefined
    : filingPeriodsToLoad({ rules, catalog, previous, now, timeZone });
  const filings = await loadCurrentFilings(trx, sorted, periods);
  const read = ruleMetrics(rules);
  for (const o of pending) if (read.has(o.metric)) observations.push(o);
  const judging = await peersOf(trx, rules, catalog, institutions, observations);
  return {
    rules,
    institutions,
    observations,
    previous,
    filings,
    ...judging,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Evaluates loaded inputs: pure computation, no statement. */
export function evaluateInputs(
  { catalog, timeZone }: RulesSnapshot,
  { rules, institutions, observations, filings, previous, peers, window, regionTotals }: EvaluationInputs,
  now: Date,
): PendingEvaluation {
  const started = performance.now();
  const result = evaluate({
    rules,
    catalog,
    institutions,
    observations,
    filings,
    previous,
    timeZone,
    now,
    peers,
    window,
    regionTotals,
  });
  return { result, seconds: (performance.now() - started) / 1000 };
}

/** Stores an evaluation's transitions (alerts, events, outbox rows) and tells the observer. */
export async function recordEvaluation(
  trx: Kysely<Database>,
  snapshot: RulesSnapshot,
  inputs: EvaluationInputs,
  { result, seconds }: PendingEvaluation,
  actor: string,
  observer?: EvaluationObserver,
): Promise<RecordedTransition[]> {
  const started = performance.now();
  const recorded = await recordResult(trx, snapshot, inputs.institutions, result.transitions, actor);
  observer?.evaluated(inputs.seconds + seconds + (performance.now() - started) / 1000, result.health);
  return recorded;
}

/**
 * What peer-outlier rules need in an upload's evaluation: they judge the latest period of the metric's
 * frequency among these institutions' observations (a window of that one period, continuing each
 * alert's run), against the other institutions of the same types in that period, loaded here.
 */
async function peersOf(
  trx: Kysely<Database>,
  rules: readonly Rule[],
  catalog: Catalog,
  institutions: readonly InstitutionRef[],
  observations: readonly Observation[],
): Promise<Pick<EvaluationInput, 'peers' | 'window'>> {
  const peerRules = rules.filter((r) => r.kind === 'peer_outlier');
  if (peerRules.length === 0) return {};
  const metrics = new Set(peerRules.map((r) => r.metric));
  const latest: Partial<Record<Frequency, string>> = {};
  for (const o of observations) {
    if (!metrics.has(o.metric)) continue;
    const frequency = catalog.metrics.get(o.metric)?.frequency;
    if (!frequency) continue;
    const seen = latest[frequency];
    if (seen === undefined || comparePeriods(o.period, seen) > 0) latest[frequency] = o.period;
  }
  const scopeTypes = new Set(institutions.map((i) => i.type));
  const types = [...new Set(peerRules.flatMap((r) => r.types))].filter((t) => scopeTypes.has(t));
  const { peers } = await peerCache.peers(
    trx,
    [...metrics],
    Object.values(latest),
    types,
    new Set(institutions.map((i) => i.code)),
  );
  return { peers, window: { latest, kinds: ['peer_outlier'] } };
}

/**
 * Stores an evaluation's transitions: alert rows and events (stamped with the snapshot's hash), and one
 * outbox row per notified transition and matching route, in the caller's transaction. A breach a
 * supervisor closed is not opened again (`withoutClosedBreaches`), an escalation takes the
 * acknowledgement away, and silenced or inhibited transitions are recorded without an outbox row
 * (`withoutSuppressed` notes why on their events).
 */
export async function recordResult(
  trx: Kysely<Database>,
  snapshot: RulesSnapshot,
  institutions: readonly InstitutionRef[],
  evaluated: readonly Transition[],
  actor: string,
): Promise<RecordedTransition[]> {
  const { catalog } = snapshot;
  const transitions = await withoutClosedBreaches(trx, evaluated);
  const recorded = await recordTransitions(trx, transitions, actor, snapshot.hash);
  await clearAcknowledgementsOnEscalation(trx, recorded, actor);
  const notified = await withoutSuppressed(
    trx,
    snapshot,
    institutions,
    recorded.filter((r) => NOTIFIED_KINDS.has(r.transition.kind)),
  );
  if (notified.length === 0) return recorded;
  const byCode = new Map(institutions.map(({ establishedAt: _, ...i }) => [i.code, i]));
  await enqueueNotifications(
    trx,
    notified.map((r): NotificationItem => {
      const { alert } = r.transition;
      const institution = alert.institution ? (byCode.get(alert.institution) ?? null) : null;
      const item = { transition: r.transition, alertId: r.alertId, eventId: r.eventId, institution };
      const frequency = filingFrequencyOf(alert.metric);
      if (frequency) {
        return {
          ...item,
          metric: { code: alert.metric, name: FILING_NAMES[frequency], unit: '' },
          filing: { frequency, dueDate: dueDayOf(alert.period, catalog) },
        };
      }
      const metric = catalog.metrics.get(alert.metric);
      const region = alert.region
        ? { key: regionKey(alert.region), name: regionName(catalog, alert.region) }
        : undefined;
      return {
        ...item,
        ...(region ? { region } : {}),
        metric: {
          code: alert.metric,
          name: metric?.name ?? { zh: alert.metric, en: alert.metric },
          unit: metric?.unit ?? '',
        },
      };
    }),
    [...snapshot.routes],
  );
  return recorded;
}

/** The metrics the rules read. */
export function ruleMetrics(rules: readonly Rule[]): Set<string> {
  return new Set(
    rules.flatMap((r) => (r.kind === 'missing_filing' ? [] : [r.metric, ...judgementOf(r).inputs])),
  );
}

/**
 * The institutions as the evaluator sees them, with the attributes rules select by. `establishedAt` is when filings start being owed: the
 * later of the institution's registration in RiskWatch (`created_at`) and its `established_on` day (start
 * of that day in the regulator's zone). Missing-filing rules expect no period that ended before it, so
 * registering a long-established firm does not raise alerts for months it could not have filed here.
 */
export async function loadInstitutionRefs(
  db: Kysely<Database>,
  /** Every institution when undefined. */
  codes: readonly string[] | undefined,
  timeZone: string,
): Promise<InstitutionRef[]> {
  if (codes?.length === 0) return [];
  let q = db
    .selectFrom('institutions')
    .select(['code', 'name', 'type', 'county', 'attributes', 'established_on', 'created_at']);
  if (codes) q = q.where('code', '=', anyOf(codes));
  const rows = await q.orderBy('code').execute();
  return rows.map(({ established_on, created_at, ...i }) => ({
    ...i,
    establishedAt: laterOf(created_at, established_on ? startOfZonedDay(established_on, timeZone) : null),
  }));
}

function laterOf(a: Date, b: Date | null): Date {
  return b && b > a ? b : a;
}

/** The current version's observations of the given institutions, every period. */
export async function loadCurrentObservations(
  db: Kysely<Database>,
  codes: readonly string[],
  metrics?: readonly string[],
): Promise<Observation[]> {
  if (codes.length === 0 || metrics?.length === 0) return [];
  let q = db
    .selectFrom('observations as o')
    .innerJoin('submissions as s', 's.id', 'o.submission_id')
    .select(['o.institution_code', 'o.metric', 'o.period', 'o.value', 'o.submission_id'])
    .where('s.is_current', '=', true)
    .where('o.institution_code', '=', anyOf(codes));
  if (metrics) q = q.where('o.metric', '=', anyOf(metrics));
  const rows = await q.orderBy('o.institution_code').orderBy('o.metric').orderBy('o.period').execute();
  return rows.map((r) => ({
    institution: r.institution_code,
    metric: r.metric,
    period: r.period,
    value: r.value,
    submissionId: r.submission_id,
  }));
}

/**
 * The current submissions of the given institutions for the given periods, in one statement (served by
 * the partial unique index on current (institution, period)). Missing-filing rules read them.
 */
export async function loadCurrentFilings(
  db: Kysely<Database>,
  codes: readonly string[],
  /** Every period when undefined. */
  periods: readonly string[] | undefined,
): Promise<Filing[]> {
  if (codes.length === 0 || periods?.length === 0) return [];
  let q = db
    .selectFrom('submissions')
    .select(['institution_code', 'period', 'id'])
    .where('is_current', '=', true)
    .where('institution_code', '=', anyOf(codes));
  if (periods) q = q.where('period', '=', anyOf(periods));
  const rows = await q.orderBy('institution_code').orderBy('period').execute();
  return rows.map((r) => ({ institution: r.institution_code, period: r.period, submissionId: r.id }));
}

/** The due day of a filing, or `null` when the catalog (reloaded since) no longer has its deadline. */
function dueDayOf(period: string, catalog: Catalog): string | null {
  try {
    return filingDueDay(period, catalog.filingDeadlines);
  } catch {
    return null;
  }
}
