import { type Kysely, sql } from 'kysely';
import type { Database, NotificationItemRow } from '../db/schema.js';
import { digestAlerts, digestKey, threadOf } from './notification.group.js';
import { alertPayloadSchema, type DigestPayload } from './notification.payload.js';
import { queuedId, queueOnce } from './outbox.repository.js';
import { LANGS, type Lang } from './routes.js';

/** Most items one flush takes; a larger backlog goes in the next flush. */
const FLUSH_LIMIT = 5000;

/** One route group ready to go: its items, oldest event first. */
interface ReadyGroup {
  readonly route: string;
  readonly group: string;
  readonly items: NotificationItemRow[];
}

/**
 * Turns every route group whose `group_wait` has passed (its oldest waiting item is due at `now`, or
 * at `dueBy` when given) into ONE outbox row, a digest of all the group's waiting items, due at `now`,
 * and links the items to it.
 *
 * Exactly once: the items are locked `FOR UPDATE SKIP LOCKED` and linked (`digest_id`, set only where
 * still null) in the transaction that inserts the digest, so concurrent flushes on several replicas
 * take disjoint items and an item is in at most one digest; the digest's idempotency key (route,
 * group, event ids) is unique in the outbox, so the same items can never make two rows either. An
 * item arriving after the flush read its group waits for the next digest of the group.
 * @returns the number of digests written.
 */
export async function flushDueGroups(
  db: Kysely<Database>,
  now: Date,
  options: { readonly dueBy?: Date } = {},
): Promise<number> {
  const dueBy = options.dueBy ?? now;
  const flush = async (trx: Kysely<Database>) => {
    const rows = await trx
      .selectFrom('notification_items')
      .selectAll()
      .where('digest_id', 'is', null)
      .where(({ eb, refTuple, selectFrom }) =>
        eb(
          refTuple('route', 'group_key'),
          'in',
          selectFrom('notification_items')
            .select(['route', 'group_key'])
            .where('digest_id', 'is', null)
            .groupBy(['route', 'group_key'])
            .having((h) => h.fn.min('due_at'), '<=', dueBy)
            .$asTuple('route', 'group_key'),
        ),
      )
      .orderBy('route')
      .orderBy('group_key')
      .orderBy('event_id')
      .limit(FLUSH_LIMIT)
      .forUpdate()
      .skipLocked()
      .execute();
    let written = 0;
    for (const group of readyGroups(rows)) {
      const digest = toDigest(group, now);
      const key = digestKey(
        group.route,
        group.group,
        group.items.map((i) => i.event_id),
      );
      const latest = group.items.at(-1) as NotificationItemRow;
      const inserted = await queueOnce(trx, key, { name: group.route, to: latest.recipients }, digest, now);
      // A conflict means these very events already have their digest: link to it, send nothing new.
      const id = inserted ?? ((await queuedId(trx, key)) as number);
      await trx
        .updateTable('notification_items')
        .set({ digest_id: id })
        .where(
          'id',
          'in',
          group.items.map((i) => i.id),
        )
        .where('digest_id', 'is', null)
        .execute();
      if (inserted !== undefined) written++;
    }
    return written;
  };
  return db.isTransaction ? flush(db) : db.transaction().execute(flush);
}

/** Splits rows (ordered by route and group) into groups. */
function readyGroups(rows: readonly NotificationItemRow[]): ReadyGroup[] {
  const groups: ReadyGroup[] = [];
  for (const row of rows) {
    const last = groups.at(-1);
    if (last && last.route === row.route && last.group === row.group_key) last.items.push(row);
    else groups.push({ route: row.route, group: row.group_key, items: [row] });
  }
  return groups;
}

/** The digest payload of a group: one entry per alert, in reading order, threaded per institution. */
export function toDigest(group: ReadyGroup, now: Date): DigestPayload {
  const latest = group.items.at(-1) as NotificationItemRow;
  const alerts = digestAlerts(group.items.map((i) => alertPayloadSchema.parse(i.payload)));
  const lang: Lang = (LANGS as readonly string[]).includes(latest.lang) ? (latest.lang as Lang) : 'zh';
  return {
    v: 1,
    lang,
    kind: 'digest',
    mode: 'changes',
    route: group.route,
    group: group.group,
    thread: threadOf(group.route, alerts),
    at: now.toISOString(),
    alerts: alerts.map((a) => ({ ...a, lang })),
  };
}

/** How many items wait for their digest: for metrics. */
export async function waitingItems(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('notification_items')
    .select(sql<number>`count(*)`.as('n'))
    .where('digest_id', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
