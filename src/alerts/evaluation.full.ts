import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { lockBulk } from '../db/advisory-locks.js';
import type { Database } from '../db/schema.js';
import { transactionClient, withTransactionClient } from '../db/transaction-client.js';
import { aggregateRegions } from '../rules/evaluate.js';
import { filingPeriodsToLoad } from '../rules/rule.filing.js';
import type { RuleKind } from '../rules/rule.schema.js';
import { historyWindow } from '../rules/rule.window.js';
import { loadActiveAlerts } from './alert.repository.js';
import {
  type EvaluationObserver,
  evaluateInputs,
  evaluateInstitutions,
  loadInstitutionRefs,
  type RulesSnapshot,
  recordResult,
} from './evaluation.service.js';
import {
  latestFiledPeriods,
  loadPeriodFilings,
  loadWindowObservations,
  type Reader,
} from './observation.window.js';

/** How a scheduled evaluation of every institution read the data. */
export type EvaluationMode = 'window' | 'deep';

/** What a scheduled evaluation did. */
export interface FullEvaluation {
  readonly mode: EvaluationMode;
  readonly institutions: number;
  readonly transitions: number;
  /** Where a window's time went, in milliseconds (for the log, and the benchmark's report). */
  readonly phases?: WindowPhases;
}

/** The phases of an evaluation in a window, in milliseconds. */
export interface WindowPhases {
  /** Waiting for the bulk lock (uploads in flight finish first). */
  readonly lock_ms: number;
  /** Institutions, alerts, the window's observations and the filings. */
  readonly read_ms: number;
  readonly evaluate_ms: number;
  /** Alerts, events and outbox rows written. */
  readonly record_ms: number;
}

/** Institutions per transaction in a deep evaluation: each batch reads their whole history. */
const DEEP_BATCH = 1000;

/**
 * What the alerts in force were computed by: the rule files' hash, and the parts of the catalog an
 * evaluation depends on (each metric's frequency, types and formula). A reload that changes either
 * makes the next scheduled evaluation a deep one.
 */
export function evaluationKey(snapshot: RulesSnapshot): string {
  const metrics = [...snapshot.catalog.metrics.values()].map((m) => [
    m.code,
    m.frequency,
    m.types,
    m.formula,
  ]);
  return createHash('sha256')
    .update(JSON.stringify([snapshot.hash, metrics]))
    .digest('hex');
}

/**
 * The scheduled evaluation of every institution. When the last completed one ran with the same rules
 * and catalog, every alert in force says what the whole history says up to its own period (uploads
 * evaluate their institutions over their whole history), so this one reads only the latest period of
 * each frequency — and, per metric, as far back as a rule looks (a change a year earlier, a trend, a
 * projection's fit) — and judges each series there from the state its alert recorded: one transaction
 * under the exclusive bulk lock (uploads wait for it). Otherwise, and the first time, it is **deep**:
 * every institution over its whole history, in batches of {@link DEEP_BATCH}, each its own transaction.
 * A completed run is recorded in `evaluation_runs`. Returns what it did.
 */
export async function evaluateEveryInstitution(
  db: Kysely<Database>,
  snapshot: () => RulesSnapshot,
  now: Date,
  observer?: EvaluationObserver,
): Promise<FullEvaluation> {
  const rules = snapshot();
  const key = evaluationKey(rules);
  const last = await db
    .selectFrom('evaluation_runs')
    .select('evaluation_key')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  const started = new Date();
  if (last?.evaluation_key === key) {
    return withTransactionClient(() =>
      db.transaction().execute(async (trx) => {
        const done = await evaluateWindow(db, trx, rules, now, observer);
        await recordRun(trx, rules, key, 'window', now, started, done);
        return { mode: 'window' as const, ...done };
      }),
    );
  }
  const codes = (await db.selectFrom('institutions').select('code').orderBy('code').execute()).map(
    (r) => r.code,
  );
  let transitions = 0;
  for (let i = 0; i < codes.length; i += DEEP_BATCH) {
    const batch = codes.slice(i, i + DEEP_BATCH);
    const recorded = await db
      .transaction()
      .execute((trx) => evaluateInstitutions(trx, rules, batch, now, 'scheduler', observer));
    transitions += recorded.length;
  }
  // Regions are judged in the latest period, over every institution at once (as in a window).
  if (rules.rules.some((r) => r.kind === 'region_aggregate')) {
    transitions += await withTransactionClient(() =>
      db.transaction().execute(async (trx) => {
        return (await evaluateWindow(db, trx, rules, now, observer, ['region_aggregate'])).transitions;
      }),
    );
  }
  const done = { institutions: codes.length, transitions };
  await recordRun(db, rules, key, 'deep', now, started, done);
  return { mode: 'deep', ...done };
}

/**
 * Re-evaluates every institution; the number of transitions recorded. See {@link evaluateEveryInstitution}.
 */
export async function evaluateAll(
  db: Kysely<Database>,
  snapshot: () => RulesSnapshot,
  now: Date,
  observer?: EvaluationObserver,
): Promise<number> {
  return (await evaluateEveryInstitution(db, snapshot, now, observer)).transitions;
}

/**
 * Reads beside a transaction holding the exclusive bulk lock: on PostgreSQL each on a pooled connection
 * of its own, so the server reads on both cores while this process parses (nothing can be written
 * meanwhile: every writer takes the bulk lock, and this transaction has written nothing yet); on PGlite,
 * which has one connection, on the transaction's.
 */
function readerBeside(db: Kysely<Database>, trx: Kysely<Database>): Reader {
  if (!transactionClient()) return (read) => read(trx);
  return (read) => withTransactionClient(() => db.connection().execute((on) => read(on)));
}

async function evaluateWindow(
  db: Kysely<Database>,
  trx: Kysely<Database>,
  snapshot: RulesSnapshot,
  now: Date,
  observer: EvaluationObserver | undefined,
  /** Only rules of these kinds, and only their alerts (all rules and alerts when absent). */
  kinds?: readonly RuleKind[],
): Promise<{ institutions: number; transitions: number; phases: WindowPhases }> {
  const asked = performance.now();
  // Every institution at once: the one exclusive lock instead of one per institution.
  await lockBulk(trx, 'exclusive');
  const started = performance.now();
  const { catalog, timeZone } = snapshot;
  const rules = kinds ? snapshot.rules.filter((r) => kinds.includes(r.kind)) : snapshot.rules;
  const latest = await latestFiledPeriods(trx);
  const window = historyWindow(rules, catalog, latest);
  const reader = readerBeside(db, trx);
  // With every rule, every alert (those of rules no longer loaded resolve); else their rules' alerts.
  const judged = new Set(rules.map((r) => r.id));
  // The periods missing filings are due for, and the latest ones a missing-data rule judges; periods of
  // older missing filings still open (a few, if any) are read once the alerts are in.
  const periods = new Set(filingPeriodsToLoad({ rules, catalog, previous: [], now, timeZone }));
  for (const r of rules) {
    const frequency = r.kind === 'missing_data' ? catalog.metrics.get(r.metric)?.frequency : undefined;
    const last = frequency ? latest[frequency] : undefined;
    if (last) periods.add(last);
  }
  const [institutions, previous, observations, filed] = await Promise.all([
    reader((on) => loadInstitutionRefs(on, undefined, timeZone)),
    reader(async (on) => (await loadActiveAlerts(on)).filter((a) => !kinds || judged.has(a.ruleId))),
    loadWindowObservations(trx, window, reader),
    reader((on) => loadPeriodFilings(on, [...periods])),
  ]);
  const older = filingPeriodsToLoad({ rules, catalog, previous, now, timeZone }).filter(
    (p) => !periods.has(p),
  );
  const filings = older.length > 0 ? [...filed, ...(await loadPeriodFilings(trx, older))] : filed;
  const read = performance.now();
  const { result } = evaluateInputs(
    snapshot,
    {
      rules,
      institutions,
      observations,
      filings,
      previous,
      // Every institution is in scope: no other peers, and the regions' sums are the window's.
      peers: { institutions: [], observations: [] },
      regionTotals: aggregateRegions(rules, catalog, institutions, observations),
      window: { latest },
      seconds: (read - started) / 1000,
    },
    now,
  );
  const evaluated = performance.now();
  const recorded = await recordResult(trx, snapshot, institutions, result.transitions, 'scheduler');
  const finished = performance.now();
  observer?.evaluated((finished - started) / 1000, result.health);
  const ms = (a: number, b: number) => Math.round(b - a);
  return {
    institutions: institutions.length,
    transitions: recorded.length,
    phases: {
      lock_ms: ms(asked, started),
      read_ms: ms(started, read),
      evaluate_ms: ms(read, evaluated),
      record_ms: ms(evaluated, finished),
    },
  };
}

async function recordRun(
  db: Kysely<Database>,
  snapshot: RulesSnapshot,
  key: string,
  mode: EvaluationMode,
  now: Date,
  started: Date,
  done: { institutions: number; transitions: number },
): Promise<void> {
  await db
    .insertInto('evaluation_runs')
    .values({
      mode,
      evaluation_key: key,
      rules_hash: snapshot.hash,
      evaluated_at: now,
      started_at: started,
      finished_at: new Date(),
      institutions: done.institutions,
      transitions: done.transitions,
    })
    .execute();
}

/**
 * Deletes records of scheduled runs finished before `before`, always keeping the latest one (the next
 * run's window decision reads it).
 */
export async function pruneEvaluationRuns(db: Kysely<Database>, before: Date): Promise<void> {
  await db
    .deleteFrom('evaluation_runs')
    .where('finished_at', '<', before)
    .where('id', '<', (eb) => eb.selectFrom('evaluation_runs').select(eb.fn.max('id').as('id')))
    .execute();
}
