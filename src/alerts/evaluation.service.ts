import type { Kysely } from 'kysely';
import type { Catalog } from '../catalog/catalog.js';
import { lockInstitutions } from '../db/advisory-locks.js';
import type { Database } from '../db/schema.js';
import { enqueueNotifications } from '../notify/outbox.repository.js';
import type { Route } from '../notify/routes.js';
import { evaluate, type Observation, type RuleHealth } from '../rules/evaluate.js';
import type { Rule } from '../rules/rule.schema.js';
import { loadActiveAlerts, type RecordedTransition, recordTransitions } from './alert.repository.js';

/** The configuration an evaluation runs with: one consistent snapshot of catalog, rules and routes. */
export interface RulesSnapshot {
  readonly catalog: Catalog;
  readonly rules: readonly Rule[];
  readonly routes: readonly Route[];
}

/** Told about every evaluation, for metrics and rule health. */
export interface EvaluationObserver {
  evaluated(durationSeconds: number, health: readonly RuleHealth[]): void;
}

/**
 * Evaluates the rules for some institutions inside the caller's transaction and stores the result:
 * alert rows, alert events and notification outbox rows commit or roll back together.
 * Institutions are locked (transaction-scoped advisory locks taken in one fixed order, so two
 * evaluations never interleave and never deadlock).
 */
export async function evaluateInstitutions(
  trx: Kysely<Database>,
  snapshot: RulesSnapshot,
  codes: readonly string[],
  now: Date,
  actor: string,
  observer?: EvaluationObserver,
): Promise<RecordedTransition[]> {
  const sorted = [...new Set(codes)].sort();
  if (sorted.length === 0) return [];
  await lockInstitutions(trx, sorted);
  const started = performance.now();
  const [institutions, observations, previous] = await Promise.all([
    trx
      .selectFrom('institutions')
      .select(['code', 'name', 'type', 'county'])
      .where('code', 'in', sorted)
      .execute(),
    loadCurrentObservations(trx, sorted),
    loadActiveAlerts(trx, sorted),
  ]);
  const result = evaluate({
    rules: snapshot.rules,
    catalog: snapshot.catalog,
    institutions,
    observations,
    previous,
    now,
  });
  const recorded = await recordTransitions(trx, result.transitions, actor);

  const byCode = new Map(institutions.map((i) => [i.code, i]));
  await enqueueNotifications(
    trx,
    recorded.map((r) => {
      const metric = snapshot.catalog.metrics.get(r.transition.alert.metric);
      return {
        transition: r.transition,
        alertId: r.alertId,
        eventId: r.eventId,
        institution: r.transition.alert.institution
          ? (byCode.get(r.transition.alert.institution) ?? null)
          : null,
        metric: {
          code: r.transition.alert.metric,
          name: metric?.name ?? { zh: r.transition.alert.metric, en: r.transition.alert.metric },
          unit: metric?.unit ?? '',
        },
      };
    }),
    [...snapshot.routes],
  );
  observer?.evaluated((performance.now() - started) / 1000, result.health);
  return recorded;
}

/** The current version's observations of the given institutions, every period. */
export async function loadCurrentObservations(
  db: Kysely<Database>,
  codes: readonly string[],
): Promise<Observation[]> {
  if (codes.length === 0) return [];
  const rows = await db
    .selectFrom('observations as o')
    .innerJoin('submissions as s', 's.id', 'o.submission_id')
    .select(['o.institution_code', 'o.metric', 'o.period', 'o.value', 'o.submission_id'])
    .where('s.is_current', '=', true)
    .where('o.institution_code', 'in', [...codes])
    .orderBy('o.institution_code')
    .orderBy('o.metric')
    .orderBy('o.period')
    .execute();
  return rows.map((r) => ({
    institution: r.institution_code,
    metric: r.metric,
    period: r.period,
    value: r.value,
    submissionId: r.submission_id,
  }));
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
