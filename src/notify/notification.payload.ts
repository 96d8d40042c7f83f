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
  /** ISO 8601 time the alert started firing; set in reminders, which list alerts long after their event. */
  firedAt: z.string().optional(),
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

/** Why a digest is sent: alert changes of a group, or a reminder of alerts nobody acknowledged. */
export const DIGEST_MODES = ['changes', 'reminder'] as const;
export type DigestMode = (typeof DIGEST_MODES)[number];

/**
 * One e-mail for a route group (docs/notifications.md): the alert changes that arrived within its
 * `group_wait`, or the alerts a reminder is about, each as frozen when its event was recorded.
 */
export const digestPayloadSchema = z.object({
  v: z.literal(1),
  lang: z.enum(LANGS),
  kind: z.literal('digest'),
  mode: z.enum(DIGEST_MODES),
  route: z.string(),
  /** The group key, `institution=QZ001`, or `*` for a reminder of the whole route. */
  group: z.string(),
  /** Mail clients thread on it: one per route and institution, when the digest is about one. */
  thread: z.string().nullable(),
  /** ISO 8601: when the digest was made (the reminder's slot for a reminder). */
  at: z.string(),
  alerts: z.array(alertPayloadSchema).min(1),
});
export type DigestPayload = z.output<typeof digestPayloadSchema>;

const severityCounts = z.object({
  info: z.number().int(),
  warning: z.number().int(),
  critical: z.number().int(),
});

/** The monthly summary of a route: what its alerts did over one calendar month. */
export const summaryPayloadSchema = z.object({
  v: z.literal(1),
  lang: z.enum(LANGS),
  kind: z.literal('summary'),
  route: z.string(),
  /** `YYYY-MM`, the month summarised, in the regulator's zone. */
  month: z.string(),
  /** Alerts that started firing in the month, by severity. */
  fired: severityCounts,
  /** Alerts that resolved in the month. */
  resolved: z.number().int(),
  /** Alerts still firing at the end of the month, by severity. */
  firing: severityCounts,
  /** Institutions with the most alerts firing or fired in the month, most first. */
  top: z.array(z.object({ code: z.string(), name: z.string(), alerts: z.number().int() })).max(10),
});
export type SummaryPayload = z.output<typeof summaryPayloadSchema>;

/**
 * What an outbox row carries, told apart by `kind`: an alert change (rows queued before digests), a
 * digest, a monthly summary, or the receipt of an accepted upload. Validated when read back so a row written by another version fails cleanly instead of
 * rendering junk; alert rows queued before receipts existed read back unchanged.
 */
export const notificationPayloadSchema = z.discriminatedUnion('kind', [
  alertPayloadSchema,
  digestPayloadSchema,
  summaryPayloadSchema,
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
