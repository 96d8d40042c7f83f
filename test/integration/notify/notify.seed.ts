import type { Kysely } from 'kysely';
import type { TransitionKind } from '../../../src/alerts/alert.types.js';
import type { Database } from '../../../src/db/schema.js';
import type { NotificationItem } from '../../../src/notify/notification.payload.js';
import { AT, INSTITUTION, makeItem, makeTransition } from '../../unit/notify/notify.fixtures.js';

/**
 * Inserts the institution, an alert and one event per kind, as the alert repository would, and
 * returns the matching notification items (the outbox references both rows).
 */
export async function seedAlertEvents(
  db: Kysely<Database>,
  kinds: readonly TransitionKind[],
): Promise<NotificationItem[]> {
  await db
    .insertInto('institutions')
    .values({
      code: INSTITUTION.code,
      name: INSTITUTION.name,
      type: INSTITUTION.type,
      county: INSTITUTION.county,
    })
    .onConflict((oc) => oc.column('code').doNothing())
    .execute();
  const alert = await db
    .insertInto('alerts')
    .values({
      fingerprint: `npl_ratio_high/${INSTITUTION.code}/npl_ratio/${Math.random()}`,
      rule_id: 'npl_ratio_high',
      institution_code: INSTITUTION.code,
      metric: 'npl_ratio',
      state: 'firing',
      severity: 'critical',
      value: 5.42,
      threshold: 5,
      period: '2026-10',
      first_period: '2026-09',
      summary: JSON.stringify({ zh: '不良贷款率超过监管上限', en: 'NPL ratio above the regulatory limit' }),
      source: 'test',
      started_at: AT,
      updated_at: AT,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const items: NotificationItem[] = [];
  for (const kind of kinds) {
    const event = await db
      .insertInto('alert_events')
      .values({
        alert_id: alert.id,
        at: AT,
        kind,
        to_state: 'firing',
        severity: 'critical',
        period: '2026-10',
        actor: 'rules',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    items.push(makeItem({ transition: makeTransition(kind), alertId: alert.id, eventId: event.id }));
  }
  return items;
}
