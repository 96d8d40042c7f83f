import { type Kysely, sql } from 'kysely';
import type { Database, OutboxRow } from '../db/schema.js';

/** States an operator filters notifications by; `partial` is a delivery some recipients refused. */
export const NOTIFICATION_STATES = ['pending', 'sending', 'sent', 'failed', 'partial'] as const;
export type NotificationState = (typeof NOTIFICATION_STATES)[number];

/** A notification as the API shows it: who it went to, how delivery went, never the rendered body. */
export interface NotificationView {
  readonly id: number;
  readonly route: string;
  /** `digest`, `summary`, `receipt`, or an alert change queued before digests (`firing` …). */
  readonly kind: string;
  /** For a digest: `changes` or `reminder`. */
  readonly mode: string | null;
  readonly status: OutboxRow['status'];
  readonly recipients: string[];
  readonly refused_recipients: string[];
  readonly attempts: number;
  readonly last_error: string | null;
  readonly message_id: string | null;
  readonly alert_ids: number[];
  readonly created_at: string;
  readonly next_attempt_at: string;
  readonly sent_at: string | null;
}

function toNotificationView(row: OutboxRow): NotificationView {
  const payload = row.payload as { kind?: unknown; mode?: unknown; alertId?: unknown; alerts?: unknown };
  const alerts = Array.isArray(payload.alerts) ? (payload.alerts as { alertId?: unknown }[]) : [];
  const alertIds = alerts.map((a) => a.alertId).filter((id): id is number => typeof id === 'number');
  if (typeof payload.alertId === 'number') alertIds.push(payload.alertId);
  return {
    id: row.id,
    route: row.route,
    kind: typeof payload.kind === 'string' ? payload.kind : 'unknown',
    mode: typeof payload.mode === 'string' ? payload.mode : null,
    status: row.status,
    recipients: row.recipients,
    refused_recipients: row.refused_recipients,
    attempts: row.attempts,
    last_error: row.last_error,
    message_id: row.message_id,
    alert_ids: alertIds,
    created_at: row.created_at.toISOString(),
    next_attempt_at: row.next_attempt_at.toISOString(),
    sent_at: row.sent_at?.toISOString() ?? null,
  };
}

/** Lists outbox rows, newest first, by state and route. */
export async function listNotifications(
  db: Kysely<Database>,
  filter: { state?: NotificationState | undefined; route?: string | undefined; limit?: number | undefined },
): Promise<NotificationView[]> {
  let q = db.selectFrom('notification_outbox').selectAll();
  if (filter.state === 'partial')
    q = q.where('status', '=', 'sent').where(sql<boolean>`jsonb_array_length(refused_recipients) > 0`);
  else if (filter.state) q = q.where('status', '=', filter.state);
  if (filter.route) q = q.where('route', '=', filter.route);
  const rows = await q
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(filter.limit ?? 500)
    .execute();
  return rows.map(toNotificationView);
}
