import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database, OutboxRow } from '../db/schema.js';
import { backoffDelayMs } from './backoff.js';
import { renderDigest } from './digest.template.js';
import { type RenderedEmail, type RenderOptions, renderEmail } from './email.template.js';
import { type Mailer, messageIdFor } from './mail.transport.js';
import { highestSeverity } from './notification.group.js';
import { type NotificationPayload, notificationPayloadSchema } from './notification.payload.js';
import { claimDue, markFailed, markRetry, markSent } from './outbox.repository.js';
import { renderReceiptEmail } from './receipt.template.js';
import { renderSummary } from './summary.template.js';

/** What happened to one outbox row in a dispatch run. */
export type DispatchOutcome = 'sent' | 'retry' | 'failed';

/**
 * Why a row was retried or failed (or sent to only some recipients): a closed set, safe as a
 * metric label and meant to be initialised to 0. The full error text goes to `last_error`.
 */
export const DISPATCH_REASONS = [
  'partial',
  'rejected',
  'transient',
  'max_attempts',
  'invalid_payload',
  'render_error',
] as const;
export type DispatchReason = (typeof DISPATCH_REASONS)[number];

/** Hook for metrics and logs; called once per claimed row. */
export interface DispatchObserver {
  onResult(route: string, outcome: DispatchOutcome, reason?: DispatchReason): void;
}

export interface DispatchOptions {
  /** Base URL for links in e-mails. */
  readonly publicUrl: string;
  /** Zone for times in e-mails (the regulator's, e.g. Asia/Shanghai). */
  readonly timeZone: string;
  /** Name of this replica, for claims and logs. */
  readonly worker: string;
  /** Attempts before a retryable failure becomes final. Default 10. */
  readonly maxAttempts?: number;
  /** Default 30 s. */
  readonly baseDelayMs?: number;
  /** Default 6 h. */
  readonly maxDelayMs?: number;
  /** Rows claimed per run, all sent concurrently. Default 20. */
  readonly limit?: number;
  /** Claim lease; must outlast one send (the SMTP timeouts add up to 2 minutes). Default 5 min. */
  readonly leaseMs?: number;
  /** Uniform [0, 1) source for backoff jitter. Default `Math.random`. */
  readonly random?: () => number;
}

export interface DispatchSummary {
  readonly sent: number;
  readonly retried: number;
  readonly failed: number;
}

const recipientsSchema = z.array(z.string()).min(1);

/**
 * Renders one outbox payload (a digest, a monthly summary, an upload receipt, or an alert change
 * queued before digests existed) with the headers that go with it.
 */
function compose(
  p: NotificationPayload,
  options: RenderOptions,
): { mail: RenderedEmail; headers: Record<string, string> } {
  if (p.kind === 'receipt') {
    return {
      mail: renderReceiptEmail(p, options),
      headers: { 'X-RiskWatch-Upload-Id': String(p.receipt.upload_id) },
    };
  }
  if (p.kind === 'digest') {
    return {
      mail: renderDigest(p, options),
      headers: {
        // Mail clients thread on References/In-Reply-To: every digest about one institution on one
        // route answers the same (never sent) thread root, so they show as one conversation.
        ...(p.thread ? { References: p.thread, 'In-Reply-To': p.thread } : {}),
        'X-RiskWatch-Alert-Ids': p.alerts.map((a) => a.alertId).join(','),
        'X-RiskWatch-Severity': highestSeverity(p.alerts),
        'X-RiskWatch-Group': encodeURIComponent(p.group),
      },
    };
  }
  if (p.kind === 'summary') {
    return { mail: renderSummary(p, options), headers: { 'X-RiskWatch-Summary-Month': p.month } };
  }
  return {
    mail: renderEmail(p, p.lang, options),
    headers: {
      // Mail clients thread every e-mail about one alert together.
      References: `<alert-${p.alertId}@riskwatch>`,
      'X-RiskWatch-Alert-Id': String(p.alertId),
      'X-RiskWatch-Event-Id': String(p.eventId),
      'X-RiskWatch-Severity': p.severity,
    },
  };
}

/**
 * Claims due outbox rows, renders and sends each, and records the outcome. Only the claimer sends
 * a row and marks it sent right after, so a row goes out once; the only repeat is a crash between
 * send and mark, after the lease expires, and it carries the same Message-ID. Retryable failures
 * back off exponentially with full jitter; a permanent failure, or running out of attempts, fails
 * the row with its error in `last_error`.
 * @throws the first database error, after every other row of the batch was handled.
 */
export async function dispatchDue(deps: {
  db: Kysely<Database>;
  mailer: Mailer;
  now: Date;
  options: DispatchOptions;
  observer?: DispatchObserver;
}): Promise<DispatchSummary> {
  const { db, mailer, now, options, observer } = deps;
  const maxAttempts = options.maxAttempts ?? 10;
  const backoff = {
    baseDelayMs: options.baseDelayMs ?? 30_000,
    maxDelayMs: options.maxDelayMs ?? 6 * 3600_000,
  };
  const rows = await claimDue(db, now, {
    limit: options.limit ?? 20,
    leaseMs: options.leaseMs ?? 5 * 60_000,
    worker: options.worker,
  });
  const counts = { sent: 0, retry: 0, failed: 0 };

  const fail = async (
    row: OutboxRow,
    reason: DispatchReason,
    error: string,
  ): Promise<[DispatchOutcome, DispatchReason]> => {
    await markFailed(db, row.id, error, row.attempts);
    return ['failed', reason];
  };
  const retryOrFail = async (row: OutboxRow, error: string): Promise<[DispatchOutcome, DispatchReason]> => {
    if (row.attempts >= maxAttempts)
      return fail(row, 'max_attempts', `gave up after ${row.attempts} attempts: ${error}`);
    const delay = backoffDelayMs(row.attempts, backoff, options.random);
    await markRetry(db, row.id, error, new Date(now.getTime() + delay), row.attempts);
    return ['retry', 'transient'];
  };

  const handle = async (row: OutboxRow): Promise<[DispatchOutcome, DispatchReason?]> => {
    // Beyond the limit only after leases expired mid-send: a crash loop must not retry forever.
    if (row.attempts > maxAttempts) {
      return fail(
        row,
        'max_attempts',
        `gave up after ${maxAttempts} attempts (lease expired): ${row.last_error ?? ''}`,
      );
    }
    const payload = notificationPayloadSchema.safeParse(row.payload);
    const to = recipientsSchema.safeParse(row.recipients);
    if (!payload.success || !to.success) {
      return fail(
        row,
        'invalid_payload',
        `invalid outbox row: ${(payload.error ?? to.error)?.message ?? ''}`,
      );
    }
    let composed: ReturnType<typeof compose>;
    try {
      composed = compose(payload.data, options);
    } catch (error) {
      // Rendering is pure, so a throw is a deployment problem (say, a bad zone): keep the row.
      const [outcome] = await retryOrFail(row, `render: ${(error as Error).message}`);
      return [outcome, outcome === 'retry' ? 'render_error' : 'max_attempts'];
    }
    const result = await mailer.send({
      ...composed.mail,
      to: to.data,
      messageId: messageIdFor(row.idempotency_key),
      headers: {
        // RFC 3834: tells auto-responders (out-of-office) not to reply; the second is Exchange's own.
        'Auto-Submitted': 'auto-generated',
        'X-Auto-Response-Suppress': 'All',
        'X-RiskWatch-Route': row.route,
        ...composed.headers,
      },
    });
    if (result.ok) {
      const refused = result.rejected?.length ? `relay refused: ${result.rejected.join(', ')}` : undefined;
      await markSent(db, row.id, result.messageId, now, refused, result.rejected ?? []);
      return refused ? ['sent', 'partial'] : ['sent'];
    }
    if (!result.retryable) return fail(row, 'rejected', result.reason);
    return retryOrFail(row, result.reason);
  };

  const settled = await Promise.allSettled(
    rows.map(async (row) => {
      const [outcome, reason] = await handle(row);
      counts[outcome]++;
      observer?.onResult(row.route, outcome, reason);
    }),
  );
  const firstError = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (firstError) throw firstError.reason;
  return { sent: counts.sent, retried: counts.retry, failed: counts.failed };
}
