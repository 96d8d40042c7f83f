import type { Kysely } from 'kysely';
import { NOTIFIED_KINDS, type TransitionKind } from '../../../src/alerts/alert.types.js';
import type { Database } from '../../../src/db/schema.js';
import { type MailKind, type NotificationItem, toPayload } from '../../../src/notify/notification.payload.js';
import { matchRoutes, type Route } from '../../../src/notify/routes.js';
import { AT, INSTITUTION, makeItem, makeTransition } from '../../unit/notify/notify.fixtures.js';

/**
 * Inserts the institution, an alert and one event per kind, as the alert repository would, and
 * returns the matching notification items (the outbox references both rows).
 */
export async function seedAlertEvents(
  db: Kysely<Database>,
  kinds: readonly TransitionKind[],
  options: { institution?: typeof INSTITUTION; at?: Date; severity?: 'info' | 'warning' | 'critical' } = {},
): Promise<NotificationItem[]> {
  const INST = options.institution ?? INSTITUTION;
  const at = options.at ?? AT;
  const severity = options.severity ?? 'critical';
  await db
    .insertInto('institutions')
    .values({
      code: INST.code,
      name: INST.name,
      type: INST.type,
      county: INST.county,
    })
    .onConflict((oc) => oc.column('code').doNothing())
    .execute();
  const alert = await db
    .insertInto('alerts')
    .values({
      fingerprint: `npl_ratio_high/${INST.code}/npl_ratio/${Math.random()}`,
      rule_id: 'npl_ratio_high',
      institution_code: INST.code,
      metric: 'npl_ratio',
      state: 'firing',
      severity,
      value: 5.42,
      threshold: 5,
      period: '2026-10',
      first_period: '2026-09',
      summary: JSON.stringify({ zh: '不良贷款率超过监管上限', en: 'NPL ratio above the regulatory limit' }),
      source: 'test',
      started_at: at,
      updated_at: at,
      fired_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const items: NotificationItem[] = [];
  for (const kind of kinds) {
    const event = await db
      .insertInto('alert_events')
      .values({
        alert_id: alert.id,
        at,
        kind,
        to_state: 'firing',
        severity,
        period: '2026-10',
        actor: 'rules',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    items.push(
      makeItem({
        transition: { ...makeTransition(kind, { institution: INST.code, severity }), at },
        alertId: alert.id,
        eventId: event.id,
        institution: INST,
      }),
    );
  }
  return items;
}

/**
 * Queues one outbox row per notified item and route as releases before digests did (`<event>:<route>`,
 * an alert payload): such rows are still delivered after an upgrade, and they give the delivery tests
 * one row per event.
 */
export async function queueLegacyRows(
  db: Kysely<Database>,
  items: readonly NotificationItem[],
  routes: readonly Route[],
): Promise<number> {
  const rows = items.flatMap((item) =>
    NOTIFIED_KINDS.has(item.transition.kind)
      ? matchRoutes(routes, {
          ruleId: item.transition.alert.ruleId,
          severity: item.transition.alert.severity,
          institutionType: item.institution?.type,
          county: item.institution?.county,
        }).map((route) => ({
          idempotency_key: `${item.eventId}:${route.name}`,
          alert_id: item.alertId,
          event_id: item.eventId,
          route: route.name,
          recipients: JSON.stringify(route.to),
          payload: JSON.stringify(toPayload(item, item.transition.kind as MailKind, route.lang)),
          next_attempt_at: item.transition.at,
        }))
      : [],
  );
  if (rows.length === 0) return 0;
  await db.insertInto('notification_outbox').values(rows).execute();
  return rows.length;
}
