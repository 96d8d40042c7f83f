import { z } from 'zod';
import { type Localized, SEVERITIES, type Transition } from '../alerts/alert.types.js';
import { FREQUENCIES, type Frequency } from '../catalog/period.js';
import { LANGS, type Lang } from './routes.js';

/** Transition kinds that produce an e-mail (mirrors `NOTIFIED_KINDS`). */
export const MAIL_KINDS = ['firing', 'escalated', 'deescalated', 'resolved'] as const;
export type MailKind = (typeof MAIL_KINDS)[number];

const localized = z.object({ zh: z.string(), en: z.string() });

/**
 * Everything an alert e-mail needs, frozen when the alert changed: rendering happens at send time, and
 * must show what was true then, not what the alert or catalog say by the time the relay is back.
 */
export const alertPayloadSchema = z.object({
  v: z.literal(1),
  lang: z.enum(LANGS),
  alertId: z.number().int(),
  eventId: z.number().int(),
  kind: z.enum(MAIL_KINDS),
  /** ISO 8601 time of the transition. */
  at: z.string(),
  ruleId: z.string(),
  severity: z.enum(SEVERITIES),
  institution: z
    .object({ code: z.string(), name: z.string(), type: z.string(), county: z.string() })
    .nullable(),
  metric: z.object({ code: z.string(), name: localized, unit: z.string() }),
  value: z.number(),
  threshold: z.number(),
  period: z.string(),
  firstPeriod: z.string(),
  periods: z.number().int(),
  summary: localized,
  source: z.string(),
  /**
   * Present for a missing-filing alert, whose value is the days overdue and threshold 0. `dueDate` is
   * the due day (`YYYY-MM-DD`, in the service's zone), `null` when its deadline was no longer known.
   * Optional, so rows queued before it existed still read back.
   */
  filing: z.object({ frequency: z.enum(FREQUENCIES), dueDate: z.string().nullable() }).optional(),
  /** Present for a regional alert: `county:晋江市`, `type:village_bank` or `city:*`, and its name. */
  region: z.object({ key: z.string(), name: localized }).optional(),
  /** How far beyond the threshold, in the judged quantity's unit (absent for older rows). */
  margin: z.number().optional(),
});

export type AlertPayload = z.output<typeof alertPayloadSchema>;

/** Most versions and warnings a receipt e-mail lists; the rest are counted and linked. */
export const RECEIPT_ITEMS_LISTED = 20;

/**
 * Everything a receipt e-mail needs, taken from the upload's receipt when it was accepted: the numbers
 * the uploader checks against their own, and the first versions and warnings.
 */
export const receiptPayloadSchema = z.object({
  v: z.literal(1),
  lang: z.enum(LANGS),
  kind: z.literal('receipt'),
  receipt: z.object({
    upload_id: z.number().int(),
    /** ISO 8601 time the upload was accepted. */
    received_at: z.string(),
    /** The key's name (never the key). */
    uploaded_by: z.string(),
    file_name: z.string().nullable(),
    sha256: z.string(),
    format: z.string(),
    counts: z.object({
      rows: z.number().int(),
      observations: z.number().int(),
      submissions: z.number().int(),
      derived: z.number().int(),
      late: z.number().int(),
      warnings: z.number().int(),
    }),
    periods: z.array(z.string()),
    institutions: z.number().int(),
    /** The first versions written; `counts.submissions` counts them all. */
    submissions: z
      .array(
        z.object({
          institution: z.string(),
          period: z.string(),
          version: z.number().int(),
          late: z.boolean(),
        }),
      )
      .max(RECEIPT_ITEMS_LISTED),
    /** The first warnings; `counts.warnings` counts them all. */
    warnings: z
      .array(
        z.object({
          code: z.string(),
          row: z.number().int().nullable(),
          column: z.number().int().nullable(),
          message: z.string(),
        }),
      )
      .max(RECEIPT_ITEMS_LISTED),
    explanation_required: z.boolean(),
  }),
});

export type ReceiptPayload = z.output<typeof receiptPayloadSchema>;

/**
 * What an outbox row carries, told apart by `kind`: an alert change, or the receipt of an accepted
 * upload. Validated when read back so a row written by another version fails cleanly instead of
 * rendering junk; alert rows queued before receipts existed read back unchanged.
 */
export const notificationPayloadSchema = z.discriminatedUnion('kind', [
  alertPayloadSchema,
  receiptPayloadSchema,
]);

export type NotificationPayload = z.output<typeof notificationPayloadSchema>;

/** One alert change handed to the outbox, with the institution and metric it concerns. */
export interface NotificationItem {
  readonly transition: Transition;
  readonly alertId: number;
  readonly eventId: number;
  /** `null` for a regional alert. */
  readonly institution: { code: string; name: string; type: string; county: string } | null;
  readonly metric: { code: string; name: Localized; unit: string };
  /** Set for a missing-filing alert: its frequency and due day. */
  readonly filing?: { readonly frequency: Frequency; readonly dueDate: string | null } | undefined;
  /** Set for a regional alert. */
  readonly region?: { readonly key: string; readonly name: Localized } | undefined;
}

/** Snapshots one notified transition for one route's language. The caller filters on kind first. */
export function toPayload(item: NotificationItem, kind: MailKind, lang: Lang): AlertPayload {
  const a = item.transition.alert;
  return {
    v: 1,
    lang,
    alertId: item.alertId,
    eventId: item.eventId,
    kind,
    at: item.transition.at.toISOString(),
    ruleId: a.ruleId,
    severity: a.severity,
    // Picked field by field: callers may hand over a whole institution row.
    institution: item.institution && {
      code: item.institution.code,
      name: item.institution.name,
      type: item.institution.type,
      county: item.institution.county,
    },
    metric: {
      code: item.metric.code,
      name: { zh: item.metric.name.zh, en: item.metric.name.en },
      unit: item.metric.unit,
    },
    value: a.value,
    threshold: a.threshold,
    period: a.period,
    firstPeriod: a.firstPeriod,
    periods: a.periods,
    summary: { zh: a.summary.zh, en: a.summary.en },
    source: a.source,
    ...(item.filing ? { filing: { frequency: item.filing.frequency, dueDate: item.filing.dueDate } } : {}),
    ...(item.region ? { region: { key: item.region.key, name: { ...item.region.name } } } : {}),
    ...(a.explanation ? { margin: a.explanation.margin } : {}),
  };
}
