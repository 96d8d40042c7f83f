import type { Kysely } from 'kysely';
import { SEVERITIES, type Severity } from '../alerts/alert.types.js';
import type { Database } from '../db/schema.js';
import { addDays, startOfZonedDay, zonedDay } from '../filing/zoned-day.js';
import { type BusinessCalendar, firstBusinessDayOfMonth, instantOf } from './business-days.js';
import type { SummaryPayload } from './notification.payload.js';
import { queuedId, queueOnce } from './outbox.repository.js';
import { matchRoutes, type Route, routeSubjectOf } from './routes.js';

/** The outbox key of a route's summary of one month. */
export function summaryKey(route: string, month: string): string {
  return `summary:${route}:${month}`;
}

/** One alert as a summary counts it. */
export interface SummaryAlert {
  readonly ruleId: string;
  readonly severity: Severity;
  readonly institution: { code: string; name: string; type: string; county: string } | null;
  /** Fired within the month. */
  readonly fired: boolean;
  /** Resolved within the month. */
  readonly resolved: boolean;
  /** Still firing when the month ended. */
  readonly firingAtEnd: boolean;
}

const TOP = 5;

/** The month before the one of `day` (`YYYY-MM-DD`), as `YYYY-MM`. */
export function previousMonth(day: string): string {
  return addDays(`${day.slice(0, 7)}-01`, -1).slice(0, 7);
}

/**
 * A route's summary of a month from the alerts active in it: counts by severity of alerts fired and
 * still firing at the end, resolutions, and the institutions with the most alerts. Pure.
 */
export function summarize(route: Route, month: string, alerts: readonly SummaryAlert[]): SummaryPayload {
  const zero = () => ({ info: 0, warning: 0, critical: 0 });
  const fired = zero();
  const firing = zero();
  let resolved = 0;
  const perInstitution = new Map<string, { code: string; name: string; alerts: number }>();
  for (const a of alerts) {
    if (matchRoutes([route], routeSubjectOf(a.ruleId, a.severity, a.institution)).length === 0) continue;
    if (a.fired) fired[a.severity]++;
    if (a.firingAtEnd) firing[a.severity]++;
    if (a.resolved) resolved++;
    if (a.institution && (a.fired || a.firingAtEnd)) {
      const seen = perInstitution.get(a.institution.code) ?? { ...a.institution, alerts: 0 };
      perInstitution.set(a.institution.code, { code: seen.code, name: seen.name, alerts: seen.alerts + 1 });
    }
  }
  const top = [...perInstitution.values()]
    .sort((a, b) => b.alerts - a.alerts || a.code.localeCompare(b.code))
    .slice(0, TOP);
  return { v: 1, lang: route.lang, kind: 'summary', route: route.name, month, fired, resolved, firing, top };
}

/** The alerts active at some time in a month (from `start` to `end`), as summaries count them. */
export async function loadMonthAlerts(db: Kysely<Database>, start: Date, end: Date): Promise<SummaryAlert[]> {
  const rows = await db
    .selectFrom('alerts as a')
    .leftJoin('institutions as i', 'i.code', 'a.institution_code')
    .select([
      'a.rule_id',
      'a.severity',
      'a.institution_code',
      'a.fired_at',
      'a.resolved_at',
      'i.name',
      'i.type',
      'i.county',
    ])
    .where('a.fired_at', 'is not', null)
    .where('a.fired_at', '<', end)
    .where((eb) => eb.or([eb('a.resolved_at', 'is', null), eb('a.resolved_at', '>=', start)]))
    .execute();
  const within = (t: Date | null) => t !== null && t >= start && t < end;
  return rows.map((r) => ({
    ruleId: r.rule_id,
    severity: (SEVERITIES as readonly string[]).includes(r.severity) ? (r.severity as Severity) : 'info',
    institution:
      r.institution_code && r.name !== null && r.type !== null && r.county !== null
        ? { code: r.institution_code, name: r.name, type: r.type, county: r.county }
        : null,
    fired: within(r.fired_at),
    resolved: within(r.resolved_at),
    firingAtEnd: r.resolved_at === null || r.resolved_at >= end,
  }));
}

/**
 * Queues each route's summary of the month before, once the first working day of this month has
 * reached the route's `monthly_summary.at` (a replica down then catches up later in the month). One
 * row per route and month, whoever writes it (the outbox key is unique).
 * @returns the number of summaries queued.
 */
export async function queueMonthlySummaries(
  ctx: {
    readonly db: Kysely<Database>;
    readonly routes: readonly Route[];
    readonly calendar: BusinessCalendar;
    readonly timeZone: string;
  },
  now: Date,
): Promise<number> {
  const today = zonedDay(now, ctx.timeZone);
  const firstDay = firstBusinessDayOfMonth(today, ctx.calendar);
  const month = previousMonth(today);
  const start = startOfZonedDay(`${month}-01`, ctx.timeZone);
  const end = startOfZonedDay(`${today.slice(0, 7)}-01`, ctx.timeZone);
  let alerts: SummaryAlert[] | undefined;
  let queued = 0;
  for (const route of ctx.routes) {
    const at = route.monthly_summary?.at;
    if (!at) continue;
    if (now.getTime() < instantOf(firstDay, at, ctx.timeZone).getTime()) continue;
    const key = summaryKey(route.name, month);
    if ((await queuedId(ctx.db, key)) !== undefined) continue;
    alerts ??= await loadMonthAlerts(ctx.db, start, end);
    if ((await queueOnce(ctx.db, key, route, summarize(route, month, alerts), now)) !== undefined) queued++;
  }
  return queued;
}
