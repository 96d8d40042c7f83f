import { type Kysely, sql } from 'kysely';
import { comparePeriods } from '../catalog/period.js';
import { anyOf } from '../db/any-of.js';
import type { Database } from '../db/schema.js';
import type { RecordedTransition } from './alert.repository.js';
import type { Transition } from './alert.types.js';
import { clearsAcknowledgement, reopensAfterClose } from './lifecycle.js';

/**
 * Drops the new alerts an evaluation would open for a breach a supervisor closed: a fingerprint whose
 * latest closed alert judged the same period or a later one. A closed alert is resolved, so the
 * evaluator no longer sees it and would otherwise raise the same breach again at its next run; a
 * later period breaching opens a new alert (see `reopensAfterClose`).
 */
export async function withoutClosedBreaches(
  trx: Kysely<Database>,
  transitions: readonly Transition[],
): Promise<readonly Transition[]> {
  const opening = transitions.filter((t) => t.from === null);
  if (opening.length === 0) return transitions;
  const rows = await trx
    .selectFrom('alerts')
    .select(['fingerprint', 'period'])
    .where('closed_at', 'is not', null)
    .where('fingerprint', '=', anyOf(opening.map((t) => t.alert.fingerprint)))
    .orderBy('id', 'desc')
    .execute();
  if (rows.length === 0) return transitions;
  const closedAt = new Map<string, string>();
  for (const r of rows) if (!closedAt.has(r.fingerprint)) closedAt.set(r.fingerprint, r.period);
  return transitions.filter((t) => {
    const closed = t.from === null ? closedAt.get(t.alert.fingerprint) : undefined;
    return closed === undefined || reopensAfterClose(closed, t.alert.period, safeCompare);
  });
}

/** Periods of one fingerprint share a frequency; anything unparseable counts as later (opens). */
function safeCompare(a: string, b: string): number {
  try {
    return comparePeriods(a, b);
  } catch {
    return 1;
  }
}

/**
 * Takes the acknowledgement off alerts that escalated (see `clearsAcknowledgement`), recording an
 * `unacknowledged` event by `actor` after the escalation's, so the history says why it went.
 */
export async function clearAcknowledgementsOnEscalation(
  trx: Kysely<Database>,
  recorded: readonly RecordedTransition[],
  actor: string,
): Promise<void> {
  const escalated = recorded.filter((r) => clearsAcknowledgement(r.transition.kind));
  if (escalated.length === 0) return;
  const cleared = await trx
    .updateTable('alerts')
    .set((eb) => ({
      acknowledged_at: null,
      acknowledged_by: null,
      acknowledgement_comment: null,
      revision: eb('revision', '+', 1),
    }))
    // One array parameter: a rules reload may escalate thousands at once.
    .where(sql<boolean>`id = any(${escalated.map((r) => r.alertId)}::bigint[])`)
    .where('acknowledged_at', 'is not', null)
    .returning(['id', 'state', 'severity', 'value', 'period', 'acknowledged_by'])
    .execute();
  if (cleared.length === 0) return;
  const at = new Map(escalated.map((r) => [r.alertId, r.transition.at]));
  await trx
    .insertInto('alert_events')
    .values(
      cleared.map((a) => ({
        alert_id: a.id,
        at: at.get(a.id) as Date,
        kind: 'unacknowledged',
        from_state: a.state,
        to_state: a.state,
        severity: a.severity,
        value: a.value,
        period: a.period,
        actor,
        comment: `escalated to ${a.severity}: the acknowledgement was for a lower severity`,
      })),
    )
    .execute();
}
