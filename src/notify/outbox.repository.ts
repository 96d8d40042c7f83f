import { type Kysely, sql, type Updateable } from 'kysely';
import { NOTIFIED_KINDS } from '../alerts/alert.types.js';
import type { Database, NotificationOutboxTable, OutboxRow } from '../db/schema.js';
import { groupKeyOf } from './notification.group.js';
import { type MailKind, type NotificationItem, toPayload } from './notification.payload.js';
import { matchRoutes, type Route, routeSubjectOf } from './routes.js';

export type { NotificationItem } from './notification.payload.js';
export { type OutboxStats, outboxStats } from './outbox.stats.js';

/**
 * Records, per (notified transition, matching route), an item waiting for its route group's digest
 * (docs/notifications.md): the alert payload frozen for the route's language, the group key of the
 * route's `group_by`, and when the group may go at the earliest (`group_wait` after the event). A
 * resolution is not recorded for a route with `send_resolved: false`. Call it with the transaction
 * that records the alert events, so an item exists exactly when its event does. Recording the same
 * event again is a no-op (`ON CONFLICT DO NOTHING` on route and event).
 * @returns the number of items actually inserted.
 */
export async function enqueueNotifications(
  db: Kysely<Database>,
  items: readonly NotificationItem[],
  routes: readonly Route[],
): Promise<number> {
  const rows = items.flatMap((item) => {
    const { kind, alert } = item.transition;
    if (!NOTIFIED_KINDS.has(kind)) return [];
    const matched = matchRoutes(routes, routeSubjectOf(alert.ruleId, alert.severity, item.institution));
    return matched
      .filter((route) => kind !== 'resolved' || route.send_resolved)
      .map((route) => {
        const payload = toPayload(item, kind as MailKind, route.lang);
        return {
          route: route.name,
          group_key: groupKeyOf(route, payload),
          event_id: item.eventId,
          alert_id: item.alertId,
          institution_code: item.institution?.code ?? null,
          severity: alert.severity,
          kind,
          recipients: JSON.stringify(route.to),
          lang: route.lang,
          payload: JSON.stringify(payload),
          event_at: item.transition.at,
          // From the event's time, not the database clock: the flush compares with its own `now`.
          due_at: new Date(item.transition.at.getTime() + route.group_wait),
        };
      });
  });
  if (rows.length === 0) return 0;
  // One array per column (`unnest`): a national evaluation queues thousands of items, and a multi-row
  // VALUES list of 12 parameters each would run into PostgreSQL's 65,535 bind parameters.
  const col = <K extends keyof (typeof rows)[number]>(k: K) => rows.map((r) => r[k]);
  const { rows: inserted } = await sql<{ id: number }>`
    INSERT INTO notification_items (route, group_key, event_id, alert_id, institution_code, severity, kind,
      recipients, lang, payload, event_at, due_at)
    SELECT v.route, v.group_key, v.event_id, v.alert_id, v.institution_code, v.severity, v.kind,
      v.recipients::jsonb, v.lang, v.payload::jsonb, v.event_at, v.due_at
    FROM unnest(
      ${col('route')}::text[], ${col('group_key')}::text[], ${col('event_id')}::bigint[],
      ${col('alert_id')}::bigint[], ${col('institution_code')}::text[], ${col('severity')}::text[],
      ${col('kind')}::text[], ${col('recipients')}::text[], ${col('lang')}::text[], ${col('payload')}::text[],
      ${rows.map((r) => r.event_at.toISOString())}::timestamptz[],
      ${rows.map((r) => r.due_at.toISOString())}::timestamptz[]
    ) AS v(route, group_key, event_id, alert_id, institution_code, severity, kind, recipients, lang, payload,
           event_at, due_at)
    ON CONFLICT (route, event_id) DO NOTHING
    RETURNING id`.execute(db);
  return inserted.length;
}

/**
 * Queues one message (a digest, a reminder, a monthly summary) under its idempotency key, at most once
 * whichever replica gets there first. The key names what it is about (the events, the slot), so a
 * replica that finds it queued already has nothing to do.
 * @returns the outbox row's id when this call queued it, else `undefined`.
 */
export async function queueOnce(
  db: Kysely<Database>,
  key: string,
  route: Pick<Route, 'name' | 'to'>,
  payload: unknown,
  now: Date,
): Promise<number | undefined> {
  const inserted = await db
    .insertInto('notification_outbox')
    .values({
      idempotency_key: key,
      route: route.name,
      recipients: JSON.stringify(route.to),
      payload: JSON.stringify(payload),
      next_attempt_at: now,
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted?.id;
}

/** The outbox row queued under this idempotency key, if any. */
export async function queuedId(db: Kysely<Database>, key: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('notification_outbox')
    .select('id')
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
  return row?.id;
}

/** How a dispatcher claims work. */
export interface ClaimOptions {
  /** Most rows to claim at once. */
  readonly limit: number;
  /** How long the claim holds; after it, another worker may take the row over. */
  readonly leaseMs: number;
  /** Who claims: stored in `claimed_by`, so an operator can see which replica holds a row. */
  readonly worker: string;
}

/**
 * Atomically claims due rows: pending ones, and `sending` ones whose lease ran out (their worker
 * died mid-send). Rows locked by a concurrent claimer are skipped, so claimers get disjoint rows.
 * Each claim sets status `sending`, a lease until `now + leaseMs`, and counts an attempt; the new
 * `attempts` value is the claim's fencing token for `markRetry`/`markFailed`.
 * Pass the root `Kysely` (a transaction is opened) or a transaction (used as is).
 */
export async function claimDue(db: Kysely<Database>, now: Date, options: ClaimOptions): Promise<OutboxRow[]> {
  const claim = async (trx: Kysely<Database>) => {
    const due = await trx
      .selectFrom('notification_outbox')
      .select('id')
      .where('next_attempt_at', '<=', now)
      .where((eb) =>
        eb.or([
          eb('status', '=', 'pending'),
          eb.and([eb('status', '=', 'sending'), eb('locked_until', '<=', now)]),
        ]),
      )
      .orderBy('next_attempt_at')
      .orderBy('id')
      .limit(options.limit)
      .forUpdate()
      .skipLocked()
      .execute();
    if (due.length === 0) return [];
    return trx
      .updateTable('notification_outbox')
      .set({
        status: 'sending',
        locked_until: new Date(now.getTime() + options.leaseMs),
        claimed_by: options.worker,
        attempts: sql<number>`attempts + 1`,
      })
      .where(
        'id',
        'in',
        due.map((r) => r.id),
      )
      .returningAll()
      .execute();
  };
  const rows = db.isTransaction ? await claim(db) : await db.transaction().execute(claim);
  return rows.sort((a, b) => a.id - b.id);
}

/**
 * Records a delivery. Wins over any other state but `sent`: the mail is out even if the lease
 * expired meanwhile and another claimer took the row. Clears `last_error` unless a note (such as
 * recipients the relay refused, also kept as `refused`) is given.
 * @returns whether the row changed (false when it was already sent).
 */
export async function markSent(
  db: Kysely<Database>,
  id: number,
  messageId: string,
  now: Date,
  note?: string,
  refused: readonly string[] = [],
): Promise<boolean> {
  const result = await db
    .updateTable('notification_outbox')
    .set({
      status: 'sent',
      message_id: messageId,
      sent_at: now,
      locked_until: null,
      last_error: note ?? null,
      refused_recipients: JSON.stringify(refused),
    })
    .where('id', '=', id)
    .where('status', '<>', 'sent')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Puts a claimed row back to `pending` until `nextAttemptAt`. With `attempt` (the claim's
 * `attempts`), only the claim that is still current may do so.
 * @returns whether the row changed.
 */
export async function markRetry(
  db: Kysely<Database>,
  id: number,
  error: string,
  nextAttemptAt: Date,
  attempt?: number,
): Promise<boolean> {
  return release(db, id, { status: 'pending', last_error: error, next_attempt_at: nextAttemptAt }, attempt);
}

/**
 * Gives up on a claimed row for good. With `attempt`, only the current claim may do so.
 * @returns whether the row changed.
 */
export async function markFailed(
  db: Kysely<Database>,
  id: number,
  error: string,
  attempt?: number,
): Promise<boolean> {
  return release(db, id, { status: 'failed', last_error: error }, attempt);
}

/** Ends a claim that did not deliver; fenced by `attempt` so a stale claimer cannot undo a newer one. */
async function release(
  db: Kysely<Database>,
  id: number,
  set: Updateable<NotificationOutboxTable>,
  attempt: number | undefined,
): Promise<boolean> {
  let query = db
    .updateTable('notification_outbox')
    .set({ ...set, locked_until: null })
    .where('id', '=', id)
    .where('status', '=', 'sending');
  if (attempt !== undefined) query = query.where('attempts', '=', attempt);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
