import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/** Outbox health for metrics and `/readyz`. */
export interface OutboxStats {
  /** Rows not yet delivered nor given up: `pending` plus `sending`. */
  readonly pending: number;
  readonly failed: number;
  /** Age of the oldest undelivered row at `now`; 0 when there is none. */
  readonly oldestPendingAgeSeconds: number;
}

/** Counts undelivered and failed rows and the age of the oldest undelivered one. */
export async function outboxStats(db: Kysely<Database>, now: Date): Promise<OutboxStats> {
  const row = await db
    .selectFrom('notification_outbox')
    .select((eb) => [
      eb.fn.countAll<number>().filterWhere('status', 'in', ['pending', 'sending']).as('pending'),
      eb.fn.countAll<number>().filterWhere('status', '=', 'failed').as('failed'),
      eb.fn.min('created_at').filterWhere('status', 'in', ['pending', 'sending']).as('oldest'),
    ])
    .executeTakeFirstOrThrow();
  const oldest = row.oldest ? new Date(row.oldest).getTime() : undefined;
  return {
    pending: Number(row.pending),
    failed: Number(row.failed),
    oldestPendingAgeSeconds: oldest === undefined ? 0 : Math.max(0, (now.getTime() - oldest) / 1000),
  };
}
