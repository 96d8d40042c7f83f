import type { Kysely } from 'kysely';
import type { Severity } from '../alerts/alert.types.js';
import type { Catalog } from '../catalog/catalog.js';
import type { AlertRow, Database } from '../db/schema.js';
import { filingDueDay } from '../filing/deadline.js';
import { FILING_NAMES, filingFrequencyOf } from '../rules/rule.filing.js';
import { parseRegionKey, regionName } from '../rules/rule.region-ref.js';
import { type BusinessCalendar, latestSlot } from './business-days.js';
import { digestAlerts, threadOf } from './notification.group.js';
import type { AlertPayload, DigestPayload } from './notification.payload.js';
import { queuedId, queueOnce } from './outbox.repository.js';
import type { ReminderCandidate, ReminderSelector } from './reminder.repository.js';
import { matchRoutes, type Route, routeSubjectOf } from './routes.js';

/** A reminder lists alerts that have been firing for at least this long: a fresh one had its e-mail. */
export const REMINDER_MIN_AGE_MS = 24 * 3_600_000;

/** The outbox key of a route's reminder at one slot: one e-mail per route and slot, whoever writes it. */
export function reminderKey(route: string, slot: Date): string {
  return `reminder:${route}:${slot.toISOString()}`;
}

/** What the reminder job reads. */
export interface ReminderContext {
  readonly db: Kysely<Database>;
  readonly routes: readonly Route[];
  readonly calendar: BusinessCalendar;
  readonly catalog: Catalog;
  readonly timeZone: string;
  readonly select: ReminderSelector;
}

/**
 * Queues, for every route with `reminders`, the reminder of its latest slot (working days at the
 * route's local time) if it has none yet: one digest of the route's firing alerts of the configured
 * severities, firing for a day or more and not acknowledged. A slot's reminder is written once (its
 * outbox key is unique), so every replica and every later run of the job may try again safely; a
 * replica down at the slot catches up at its next run.
 * @returns the number of reminders queued.
 */
export async function queueReminders(ctx: ReminderContext, now: Date): Promise<number> {
  let queued = 0;
  for (const route of ctx.routes) {
    if (!route.reminders) continue;
    const slot = latestSlot(now, { at: route.reminders.at, timeZone: ctx.timeZone, calendar: ctx.calendar });
    const key = reminderKey(route.name, slot);
    if ((await queuedId(ctx.db, key)) !== undefined) continue;
    const candidates = await ctx.select({
      severities: route.reminders.severities,
      firedBefore: new Date(slot.getTime() - REMINDER_MIN_AGE_MS),
      at: slot,
    });
    const alerts = digestAlerts(
      candidates
        .filter(
          (c) =>
            matchRoutes([route], routeSubjectOf(c.alert.rule_id, c.alert.severity as Severity, c.institution))
              .length > 0,
        )
        .map((c) => reminderPayload(c, route, ctx.catalog)),
    );
    if (alerts.length === 0) continue;
    const payload: DigestPayload = {
      v: 1,
      lang: route.lang,
      kind: 'digest',
      mode: 'reminder',
      route: route.name,
      group: '*',
      thread: threadOf(route.name, alerts),
      at: slot.toISOString(),
      alerts,
    };
    if ((await queueOnce(ctx.db, key, route, payload, now)) !== undefined) queued++;
  }
  return queued;
}

/** An alert as a reminder shows it: its current values, with when it started firing. */
export function reminderPayload(
  { alert, institution }: ReminderCandidate,
  route: Pick<Route, 'lang'>,
  catalog: Catalog,
): AlertPayload {
  const frequency = filingFrequencyOf(alert.metric);
  const region = alert.region ? parseRegionKey(alert.region) : undefined;
  return {
    v: 1,
    lang: route.lang,
    alertId: alert.id,
    // A reminder is about the alert, not an event; 0 keeps the payload's shape.
    eventId: 0,
    kind: 'firing',
    at: alert.updated_at.toISOString(),
    ruleId: alert.rule_id,
    severity: alert.severity as Severity,
    institution,
    metric: metricOf(alert, catalog),
    // JSON has no NaN: an alert recorded without figures shows 0 rather than fail its reminder.
    value: alert.value ?? 0,
    threshold: alert.threshold ?? 0,
    period: alert.period,
    firstPeriod: alert.first_period,
    periods: alert.periods,
    summary: alert.summary,
    source: alert.source ?? '',
    ...(frequency ? { filing: { frequency, dueDate: dueDay(alert.period, catalog) } } : {}),
    ...(region ? { region: { key: alert.region as string, name: regionName(catalog, region) } } : {}),
    ...(alert.explanation ? { margin: alert.explanation.margin } : {}),
    ...(alert.fired_at ? { firedAt: alert.fired_at.toISOString() } : {}),
  };
}

function metricOf(alert: AlertRow, catalog: Catalog): AlertPayload['metric'] {
  const frequency = filingFrequencyOf(alert.metric);
  if (frequency) return { code: alert.metric, name: FILING_NAMES[frequency], unit: '' };
  const metric = catalog.metrics.get(alert.metric);
  return {
    code: alert.metric,
    name: metric?.name ?? { zh: alert.metric, en: alert.metric },
    unit: metric?.unit ?? '',
  };
}

function dueDay(period: string, catalog: Catalog): string | null {
  try {
    return filingDueDay(period, catalog.filingDeadlines);
  } catch {
    return null;
  }
}
