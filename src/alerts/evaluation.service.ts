import type { Kysely } from 'kysely';
import type { Catalog } from '../catalog/catalog.js';
import { lockInstitutions } from '../db/advisory-locks.js';
import { anyOf } from '../db/any-of.js';
import type { Database } from '../db/schema.js';
import { filingDueDay } from '../filing/deadline.js';
import { startOfZonedDay } from '../filing/zoned-day.js';
import { enqueueNotifications, type NotificationItem } from '../notify/outbox.repository.js';
import type { Route } from '../notify/routes.js';
import {
  type EvaluationResult,
  evaluate,
  type Filing,
  type InstitutionRef,
  type Observation,
  type RuleHealth,
} from '../rules/evaluate.js';
import { judgementOf } from '../rules/rule.derived.js';
import { FILING_NAMES, filingFrequencyOf, filingPeriodsToLoad } from '../rules/rule.filing.js';
import type { Rule } from '../rules/rule.schema.js';
import { loadActiveAlerts, type RecordedTransition, recordTransitions } from './alert.repository.js';
import type { ActiveAlert } from './alert.types.js';

/** The configuration an evaluation runs with: one consistent snapshot of catalog, rules and routes. */
export interface RulesSnapshot {
  readonly catalog: Catalog;
  readonly rules: readonly Rule[];
  readonly routes: readonly Route[];
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
  readonly institutions: readonly InstitutionRef[];
  readonly observations: readonly Observation[];
  readonly previous: readonly ActiveAlert[];
  readonly filings: readonly Filing[];
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
  const { rules, catalog, timeZone } = snapshot;
  const [institutions, observations, previous] = await Promise.all([
    loadInstitutionRefs(trx, sorted, timeZone),
    // Only the metrics some rule reads: a bulk import of 20 metrics for 30,000 banks need not read
    // 600,000 values back to evaluate the handful of ratios the rules watch.
    loadCurrentObservations(trx, sorted, [...ruleMetrics(rules)]),
    loadActiveAlerts(trx, sorted),
  ]);
  const periods = filingPeriodsToLoad({ rules, catalog, previous, now, timeZone });
  const filings = await loadCurrentFilings(trx, sorted, periods);
  const read = ruleMetrics(rules);
  for (const o of pending) if (read.has(o.metric)) observations.push(o);
  return { institutions, observations, previous, filings, seconds: (performance.now() - started) / 1000 };
}

/** Evaluates loaded inputs: pure computation, no statement. */
export function evaluateInputs(
  { rules, catalog, timeZone }: RulesSnapshot,
  { institutions, observations, filings, previous }: EvaluationInputs,
  now: Date,
): PendingEvaluation {
  const started = performance.now();
  const result = evaluate({ rules, catalog, institutions, observations, filings, previous, timeZone, now });
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
  const { catalog } = snapshot;
  const recorded = await recordTransitions(trx, result.transitions, actor, snapshot.hash);

  const byCode = new Map(inputs.institutions.map(({ establishedAt: _, ...i }) => [i.code, i]));
  await enqueueNotifications(
    trx,
    recorded.map((r): NotificationItem => {
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
      return {
        ...item,
        metric: {
          code: alert.metric,
          name: metric?.name ?? { zh: alert.metric, en: alert.metric },
          unit: metric?.unit ?? '',
        },
      };
    }),
    [...snapshot.routes],
  );
  observer?.evaluated(inputs.seconds + seconds + (performance.now() - started) / 1000, result.health);
  return recorded;
}

/** The metrics the rules read. */
export function ruleMetrics(rules: readonly Rule[]): Set<string> {
  return new Set(
    rules.flatMap((r) => (r.kind === 'missing_filing' ? [] : [r.metric, ...judgementOf(r).inputs])),
  );
}

/**
 * The institutions as the evaluator sees them. `establishedAt` is when filings start being owed: the
 * later of the institution's registration in RiskWatch (`created_at`) and its `established_on` day (start
 * of that day in the regulator's zone). Missing-filing rules expect no period that ended before it, so
 * registering a long-established firm does not raise alerts for months it could not have filed here.
 */
export async function loadInstitutionRefs(
  db: Kysely<Database>,
  codes: readonly string[],
  timeZone: string,
): Promise<InstitutionRef[]> {
  if (codes.length === 0) return [];
  const rows = await db
    .selectFrom('institutions')
    .select(['code', 'name', 'type', 'county', 'established_on', 'created_at'])
    .where('code', '=', anyOf(codes))
    .orderBy('code')
    .execute();
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
  periods: readonly string[],
): Promise<Filing[]> {
  if (codes.length === 0 || periods.length === 0) return [];
  const rows = await db
    .selectFrom('submissions')
    .select(['institution_code', 'period', 'id'])
    .where('is_current', '=', true)
    .where('institution_code', '=', anyOf(codes))
    .where('period', '=', anyOf(periods))
    .orderBy('institution_code')
    .orderBy('period')
    .execute();
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

/**
 * Re-evaluates every institution, in batches, each batch its own transaction so one long run does
 * not hold every lock at once. Returns the number of transitions recorded.
 */
export async function evaluateAll(
  db: Kysely<Database>,
  snapshot: () => RulesSnapshot,
  now: Date,
  observer?: EvaluationObserver,
  batchSize = 50,
): Promise<number> {
  const codes = (await db.selectFrom('institutions').select('code').orderBy('code').execute()).map(
    (r) => r.code,
  );
  let transitions = 0;
  for (let i = 0; i < codes.length; i += batchSize) {
    const batch = codes.slice(i, i + batchSize);
    const recorded = await db
      .transaction()
      .execute((trx) => evaluateInstitutions(trx, snapshot(), batch, now, 'scheduler', observer));
    transitions += recorded.length;
  }
  return transitions;
}
