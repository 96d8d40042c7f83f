import { createHash } from 'node:crypto';
import { SEVERITIES, type Severity, severityRank } from '../alerts/alert.types.js';
import { messageIdFor } from './mail.transport.js';
import type { AlertPayload } from './notification.payload.js';
import type { GroupLabel, Route } from './routes.js';

/**
 * The value of one group label for an alert. A regional alert has no institution, county or type: it
 * is its own group (its region key), so that it never lands in some institution's digest.
 */
function labelValue(label: GroupLabel, p: AlertPayload): string {
  const region = p.region ? `region:${p.region.key}` : 'region';
  switch (label) {
    case 'institution':
      return p.institution?.code ?? region;
    case 'county':
      return p.institution?.county ?? region;
    case 'type':
      return p.institution?.type ?? region;
    case 'rule':
      return p.ruleId;
    case 'severity':
      return p.severity;
  }
}

/**
 * The group an alert falls in on a route: its `group_by` labels and values, `label=value` joined by
 * `,` in the route's order (`institution=QZ001`, `county=晋江市,rule=npl_ratio_high`). Pure.
 */
export function groupKeyOf(route: Pick<Route, 'group_by'>, p: AlertPayload): string {
  return route.group_by.map((label) => `${label}=${labelValue(label, p)}`).join(',');
}

/**
 * The outbox idempotency key of a digest: the route, the group, and every alert event it carries.
 * Derived from content only, so any replica, before or after a restart, that builds the digest of
 * the same events writes the same key, and the unique index keeps one row.
 */
export function digestKey(route: string, group: string, eventIds: readonly number[]): string {
  const events = [...new Set(eventIds)].sort((a, b) => a - b).join(',');
  const hash = createHash('sha256').update(`${group}\n${events}`).digest('hex').slice(0, 32);
  return `digest:${route}:${hash}`;
}

/**
 * The thread a digest belongs to, as a Message-ID: one per route and institution (or region), so a
 * mail client shows every e-mail about one institution as one conversation. `null` when the digest
 * is about several institutions, which belong to no single thread.
 */
export function threadOf(route: string, alerts: readonly AlertPayload[]): string | null {
  const subjects = new Set(alerts.map(subjectOf));
  if (subjects.size !== 1) return null;
  return messageIdFor(`thread:${route}:${[...subjects][0]}`);
}

/** What an alert is about: its institution's code, or its region. */
export function subjectOf(p: AlertPayload): string {
  return p.institution?.code ?? `region:${p.region?.key ?? p.ruleId}`;
}

/**
 * The alerts a digest shows, one per alert (its latest event: an alert that fired and resolved within
 * the wait shows as resolved), ordered as a supervisor reads them: active before resolved, highest
 * severity first, then by institution, metric and alert.
 */
export function digestAlerts(items: readonly AlertPayload[]): AlertPayload[] {
  const latest = new Map<number, AlertPayload>();
  for (const p of items) {
    const seen = latest.get(p.alertId);
    if (!seen || p.eventId > seen.eventId) latest.set(p.alertId, p);
  }
  return [...latest.values()].sort(
    (a, b) =>
      Number(a.kind === 'resolved') - Number(b.kind === 'resolved') ||
      severityRank(b.severity) - severityRank(a.severity) ||
      subjectOf(a).localeCompare(subjectOf(b)) ||
      a.metric.code.localeCompare(b.metric.code) ||
      a.alertId - b.alertId,
  );
}

/** The highest severity among alerts, `info` for none. */
export function highestSeverity(alerts: readonly Pick<AlertPayload, 'severity'>[]): Severity {
  let highest: Severity = SEVERITIES[0];
  for (const a of alerts) if (severityRank(a.severity) > severityRank(highest)) highest = a.severity;
  return highest;
}
