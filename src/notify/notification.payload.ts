import { z } from 'zod';
import { type Localized, SEVERITIES, type Transition } from '../alerts/alert.types.js';
import { LANGS, type Lang } from './routes.js';

/** Transition kinds that produce an e-mail (mirrors `NOTIFIED_KINDS`). */
export const MAIL_KINDS = ['firing', 'escalated', 'deescalated', 'resolved'] as const;
export type MailKind = (typeof MAIL_KINDS)[number];

const localized = z.object({ zh: z.string(), en: z.string() });

/**
 * Everything an e-mail needs, frozen when the alert changed: rendering happens at send time, and
 * must show what was true then, not what the alert or catalog say by the time the relay is back.
 * Validated when read back so a row written by another version fails cleanly instead of rendering junk.
 */
export const notificationPayloadSchema = z.object({
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
});

export type NotificationPayload = z.output<typeof notificationPayloadSchema>;

/** One alert change handed to the outbox, with the institution and metric it concerns. */
export interface NotificationItem {
  readonly transition: Transition;
  readonly alertId: number;
  readonly eventId: number;
  /** `null` for a regional alert. */
  readonly institution: { code: string; name: string; type: string; county: string } | null;
  readonly metric: { code: string; name: Localized; unit: string };
}

/** Snapshots one notified transition for one route's language. The caller filters on kind first. */
export function toPayload(item: NotificationItem, kind: MailKind, lang: Lang): NotificationPayload {
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
  };
}
