import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/audit.repository.js';
import { lockBulk, lockInstitutions } from '../db/advisory-locks.js';
import type { AlertRow, Database } from '../db/schema.js';
import { AppError } from '../http/app-error.js';
import { type AlertView, toAlertView } from './alert.repository.js';
import { type AlertAction, type AlertLifecycle, decideAction } from './lifecycle.js';

/** What an accepted action answers: the alert as it now is, and the event recorded (none for a no-op). */
export interface ActionResult {
  readonly alert: AlertView;
  readonly event: { readonly id: number; readonly kind: string; readonly at: string } | null;
}

/** The lifecycle part of a stored alert. */
export function lifecycleOf(row: AlertRow): AlertLifecycle {
  return {
    state: row.state,
    acknowledgement:
      row.acknowledged_at && row.acknowledged_by
        ? { by: row.acknowledged_by, at: row.acknowledged_at, comment: row.acknowledgement_comment }
        : null,
    assignee: row.assignee,
    closed:
      row.closed_at && row.closed_by
        ? { by: row.closed_by, at: row.closed_at, reason: row.close_reason ?? '' }
        : null,
  };
}

/**
 * Applies a person's action to an alert in one transaction: the alert row is locked, the action
 * decided by `decideAction`, the row updated (its revision counted up; a comment leaves the row as it
 * is), an event recorded and the write audited.
 * @param revision when given, the revision the caller saw: a different one answers 409 `alert_changed`.
 * @throws AppError 404 when the alert does not exist, 409 `alert_changed` or the refusal's code.
 */
export async function actOnAlert(
  db: Kysely<Database>,
  id: number,
  action: AlertAction,
  actor: string,
  at: Date,
  revision?: number,
): Promise<ActionResult> {
  return db.transaction().execute(async (trx) => {
    const subject = await trx
      .selectFrom('alerts')
      .select('institution_code')
      .where('id', '=', id)
      .executeTakeFirst();
    if (!subject) throw AppError.notFound(`Alert ${id}`);
    // The evaluations' locks first, in their order: an evaluation that loaded this alert active must
    // not find it closed when it stores its transition (and an action waits for it rather than racing).
    if (subject.institution_code) await lockInstitutions(trx, [subject.institution_code]);
    else await lockBulk(trx, 'shared');
    const row = await trx
      .selectFrom('alerts')
      .selectAll()
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (revision !== undefined && row.revision !== revision) {
      throw AppError.conflict(
        'alert_changed',
        `Alert ${id} changed since revision ${revision} (it is at revision ${row.revision}): reload it and try again`,
      );
    }
    const outcome = decideAction(lifecycleOf(row), action, actor, at);
    if (!outcome.ok) throw AppError.conflict(outcome.code, outcome.message);
    const { next, event } = outcome;
    if (!event) return { alert: toAlertView(row), event: null };
    let updated = row;
    if (event.kind !== 'commented') {
      updated = await trx
        .updateTable('alerts')
        .set({
          state: next.state,
          acknowledged_at: next.acknowledgement?.at ?? null,
          acknowledged_by: next.acknowledgement?.by ?? null,
          acknowledgement_comment: next.acknowledgement?.comment ?? null,
          assignee: next.assignee,
          closed_at: next.closed?.at ?? null,
          closed_by: next.closed?.by ?? null,
          close_reason: next.closed?.reason ?? null,
          revision: row.revision + 1,
          ...(event.kind === 'closed' ? { resolved_at: at, updated_at: at } : {}),
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
    }
    const recorded = await trx
      .insertInto('alert_events')
      .values({
        alert_id: id,
        at,
        kind: event.kind,
        from_state: event.from,
        to_state: event.to,
        severity: row.severity,
        value: row.value,
        period: row.period,
        actor,
        comment: event.comment,
        assignee: event.assignee,
      })
      .returning(['id'])
      .executeTakeFirstOrThrow();
    await recordAudit(trx, {
      actor,
      action: `alerts.${action.kind}`,
      target: `alert:${id}`,
      details: {
        event_id: recorded.id,
        revision: updated.revision,
        ...(event.comment !== null ? { comment: event.comment } : {}),
        ...(action.kind === 'assign' ? { assignee: action.assignee } : {}),
      },
    });
    return {
      alert: toAlertView(updated),
      event: { id: recorded.id, kind: event.kind, at: at.toISOString() },
    };
  });
}
