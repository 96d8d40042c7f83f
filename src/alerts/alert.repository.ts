import { type Kysely, sql } from 'kysely';
import { anyOf } from '../db/any-of.js';
import { chunks } from '../db/chunks.js';
import type { AlertRow, Database } from '../db/schema.js';
import { parseRegionKey, regionKey } from '../rules/rule.region-ref.js';
import type { ActiveAlert, AlertExplanation, AlertState, Severity, Transition } from './alert.types.js';
import { silencedAlertSql } from './silence.repository.js';

/** A transition as stored: the alert row and the event row it produced. */
export interface RecordedTransition {
  readonly alertId: number;
  readonly eventId: number;
  readonly transition: Transition;
}

export function toActiveAlert(row: AlertRow): ActiveAlert {
  if (row.state === 'resolved') throw new Error(`Alert ${row.id} is resolved, not active`);
  return {
    fingerprint: row.fingerprint,
    ruleId: row.rule_id,
    institution: row.institution_code,
    metric: row.metric,
    state: row.state,
    severity: row.severity as Severity,
    value: row.value ?? Number.NaN,
    threshold: row.threshold ?? Number.NaN,
    period: row.period,
    firstPeriod: row.first_period,
    periods: row.periods,
    submissionId: row.submission_id,
    summary: row.summary,
    source: row.source ?? '',
    startedAt: row.started_at,
    firedAt: row.fired_at,
    ...(row.region ? { region: parseRegionKey(row.region) } : {}),
    ...(row.explanation ? { explanation: row.explanation } : {}),
  };
}

/**
 * Pending and firing alerts of the given institutions (every active alert, regional ones included, when
 * `codes` is undefined).
 */
export async function loadActiveAlerts(
  db: Kysely<Database>,
  codes?: readonly string[],
): Promise<ActiveAlert[]> {
  if (codes?.length === 0) return [];
  let q = db.selectFrom('alerts').selectAll().where('state', '<>', 'resolved');
  if (codes) q = q.where('institution_code', '=', anyOf(codes));
  return (await q.orderBy('fingerprint').execute()).map(toActiveAlert);
}

function iso(d: Date | string | null): string | null {
  return d === null ? null : d instanceof Date ? d.toISOString() : d;
}

function alertColumns(t: Transition) {
  const a = t.alert;
  return {
    state: t.to,
    severity: a.severity,
    value: Number.isFinite(a.value) ? a.value : null,
    threshold: Number.isFinite(a.threshold) ? a.threshold : null,
    period: a.period,
    first_period: a.firstPeriod,
    periods: a.periods,
    submission_id: a.submissionId,
    summary: JSON.stringify(a.summary),
    source: a.source,
    fired_at: a.firedAt,
    resolved_at: t.to === 'resolved' ? t.at : null,
    updated_at: t.at,
    explanation: a.explanation ? JSON.stringify(a.explanation) : null,
  } as const;
}

/**
 * Stores transitions: inserts new alerts in one statement, updates active ones by fingerprint, and
 * appends one alert event for each in one statement, stamped with `rulesHash`, the hash of the rule set
 * that decided them. Run it in the transaction that decided the transitions; an evaluation yields at
 * most one transition per alert.
 */
export async function recordTransitions(
  db: Kysely<Database>,
  transitions: readonly Transition[],
  actor: string,
  rulesHash: string,
): Promise<RecordedTransition[]> {
  if (transitions.length === 0) return [];
  if (new Set(transitions.map((t) => t.alert.fingerprint)).size !== transitions.length) {
    throw new Error('An evaluation produced two transitions for one alert');
  }
  // Each transition's columns once: an explanation is serialised for its alert and its event alike.
  const columns = new Map(transitions.map((t) => [t.alert.fingerprint, alertColumns(t)]));
  const columnsOf = (t: Transition) => columns.get(t.alert.fingerprint) as ReturnType<typeof alertColumns>;
  const alertIds = new Map<string, number>();
  // Set-based, one array per column (`unnest`): a constant number of parameters however many alerts a
  // national evaluation opens, where a multi-row VALUES list would bind tens of thousands.
  for (const part of chunks(
    transitions.filter((t) => t.from === null),
    10_000,
  )) {
    const c = part.map(columnsOf);
    const { rows } = await sql<{ id: number; fingerprint: string }>`
      INSERT INTO alerts (fingerprint, rule_id, institution_code, region, metric, started_at, state, severity,
        value, threshold, period, first_period, periods, submission_id, summary, source, fired_at,
        resolved_at, updated_at, explanation)
      SELECT v.fingerprint, v.rule_id, v.institution_code, v.region, v.metric, v.started_at, v.state,
        v.severity, v.value, v.threshold, v.period, v.first_period, v.periods, v.submission_id,
        v.summary::jsonb, v.source, v.fired_at, v.resolved_at, v.updated_at, v.explanation::jsonb
      FROM unnest(
        ${part.map((t) => t.alert.fingerprint)}::text[], ${part.map((t) => t.alert.ruleId)}::text[],
        ${part.map((t) => t.alert.institution)}::text[],
        ${part.map((t) => (t.alert.region ? regionKey(t.alert.region) : null))}::text[],
        ${part.map((t) => t.alert.metric)}::text[], ${part.map((t) => iso(t.alert.startedAt))}::timestamptz[],
        ${c.map((x) => x.state)}::text[], ${c.map((x) => x.severity)}::text[],
        ${c.map((x) => x.value)}::numeric[], ${c.map((x) => x.threshold)}::numeric[],
        ${c.map((x) => x.period)}::text[], ${c.map((x) => x.first_period)}::text[],
        ${c.map((x) => x.periods)}::integer[], ${c.map((x) => x.submission_id)}::bigint[],
        ${c.map((x) => x.summary)}::text[], ${c.map((x) => x.source)}::text[],
        ${c.map((x) => iso(x.fired_at))}::timestamptz[], ${c.map((x) => iso(x.resolved_at))}::timestamptz[],
        ${c.map((x) => iso(x.updated_at))}::timestamptz[], ${c.map((x) => x.explanation)}::text[]
      ) AS v(fingerprint, rule_id, institution_code, region, metric, started_at, state, severity, value,
             threshold, period, first_period, periods, submission_id, summary, source, fired_at,
             resolved_at, updated_at, explanation)
      RETURNING id, fingerprint`.execute(db);
    for (const r of rows) alertIds.set(r.fingerprint, Number(r.id));
  }
  for (const part of chunks(
    transitions.filter((t) => t.from !== null),
    5000,
  )) {
    // One statement per few thousand alerts: a scheduled evaluation at national scale moves tens of
    // thousands of them at once (each alert that stays active gets its new period).
    const c = part.map(columnsOf);
    const { rows } = await sql<{ id: number; fingerprint: string }>`
      UPDATE alerts AS a SET
        state = v.state, severity = v.severity, value = v.value, threshold = v.threshold,
        period = v.period, first_period = v.first_period, periods = v.periods,
        submission_id = v.submission_id, summary = v.summary::jsonb, source = v.source,
        fired_at = v.fired_at, resolved_at = v.resolved_at, updated_at = v.updated_at,
        explanation = v.explanation::jsonb, revision = a.revision + 1
      FROM unnest(
        ${part.map((t) => t.alert.fingerprint)}::text[], ${c.map((x) => x.state)}::text[],
        ${c.map((x) => x.severity)}::text[], ${c.map((x) => x.value)}::numeric[],
        ${c.map((x) => x.threshold)}::numeric[], ${c.map((x) => x.period)}::text[],
        ${c.map((x) => x.first_period)}::text[], ${c.map((x) => x.periods)}::integer[],
        ${c.map((x) => x.submission_id)}::bigint[], ${c.map((x) => x.summary)}::text[],
        ${c.map((x) => x.source)}::text[], ${c.map((x) => iso(x.fired_at))}::timestamptz[],
        ${c.map((x) => iso(x.resolved_at))}::timestamptz[], ${c.map((x) => iso(x.updated_at))}::timestamptz[],
        ${c.map((x) => x.explanation)}::text[]
      ) AS v(fingerprint, state, severity, value, threshold, period, first_period, periods,
             submission_id, summary, source, fired_at, resolved_at, updated_at, explanation)
      WHERE a.fingerprint = v.fingerprint AND a.state <> 'resolved'
      RETURNING a.id, a.fingerprint`.execute(db);
    for (const r of rows) alertIds.set(r.fingerprint, Number(r.id));
    if (rows.length !== part.length) {
      const missing = part.find((t) => !alertIds.has(t.alert.fingerprint)) as Transition;
      throw new Error(
        `No active alert ${missing.alert.fingerprint} to move from ${missing.from} to ${missing.to}`,
      );
    }
  }
  const eventIds = new Map<number, number>();
  for (const part of chunks(transitions, 10_000)) {
    const { rows } = await sql<{ id: number; alert_id: number }>`
      INSERT INTO alert_events (alert_id, at, kind, from_state, to_state, severity, value, period, actor,
        rules_hash, explanation)
      SELECT v.alert_id, v.at, v.kind, v.from_state, v.to_state, v.severity, v.value, v.period, ${actor},
        ${rulesHash}, v.explanation::jsonb
      FROM unnest(
        ${part.map((t) => alertIds.get(t.alert.fingerprint) as number)}::bigint[],
        ${part.map((t) => iso(t.at))}::timestamptz[], ${part.map((t) => t.kind)}::text[],
        ${part.map((t) => t.from)}::text[], ${part.map((t) => t.to)}::text[],
        ${part.map((t) => t.alert.severity)}::text[],
        ${part.map((t) => (Number.isFinite(t.alert.value) ? t.alert.value : null))}::numeric[],
        ${part.map((t) => t.alert.period)}::text[],
        ${part.map((t) => columnsOf(t).explanation)}::text[]
      ) AS v(alert_id, at, kind, from_state, to_state, severity, value, period, explanation)
      RETURNING id, alert_id`.execute(db);
    for (const e of rows) eventIds.set(Number(e.alert_id), Number(e.id));
  }
  return transitions.map((t) => {
    const alertId = alertIds.get(t.alert.fingerprint) as number;
    return { alertId, eventId: eventIds.get(alertId) as number, transition: t };
  });
}

/** Filters of the alert list; all optional. */
export interface AlertFilter {
  readonly state?: AlertState | undefined;
  readonly severity?: Severity | undefined;
  readonly institution?: string | undefined;
  readonly rule?: string | undefined;
  readonly region?: string | undefined;
  /** Acknowledged (or not) at present. */
  readonly acknowledged?: boolean | undefined;
  readonly assignee?: string | undefined;
  /** Active and matched by a silence active at `at` (or not); needs `at`. */
  readonly silenced?: boolean | undefined;
  readonly at?: Date | undefined;
  readonly limit?: number | undefined;
}

/** An alert as the API shows it. */
export interface AlertView {
  readonly id: number;
  readonly fingerprint: string;
  readonly rule: string;
  readonly institution: string | null;
  readonly metric: string;
  readonly state: AlertState;
  readonly severity: string;
  readonly value: number | null;
  readonly threshold: number | null;
  readonly period: string;
  readonly first_period: string;
  readonly periods: number;
  readonly submission_id: number | null;
  /** `county:<code>`, `type:<code>` or `city:*` for a regional alert; null for an institution's. */
  readonly region: string | null;
  readonly summary: { zh: string; en: string };
  readonly source: string | null;
  /** Why the alert stands (null for alerts recorded before explanations). */
  readonly explanation: AlertExplanation | null;
  readonly started_at: string;
  readonly fired_at: string | null;
  readonly resolved_at: string | null;
  readonly updated_at: string;
  /** Counts the alert's changes; send it back with an action to refuse acting on a changed alert. */
  readonly revision: number;
  readonly acknowledged: { readonly by: string; readonly at: string; readonly comment: string | null } | null;
  readonly assignee: string | null;
  /** Set when a supervisor closed the alert (it is then resolved). */
  readonly closed: { readonly by: string; readonly at: string; readonly reason: string } | null;
}

export function toAlertView(row: AlertRow): AlertView {
  return {
    id: row.id,
    fingerprint: row.fingerprint,
    rule: row.rule_id,
    institution: row.institution_code,
    metric: row.metric,
    state: row.state,
    severity: row.severity,
    value: row.value,
    threshold: row.threshold,
    period: row.period,
    first_period: row.first_period,
    periods: row.periods,
    submission_id: row.submission_id,
    region: row.region,
    summary: row.summary,
    source: row.source,
    explanation: row.explanation,
    started_at: row.started_at.toISOString(),
    fired_at: row.fired_at?.toISOString() ?? null,
    resolved_at: row.resolved_at?.toISOString() ?? null,
    updated_at: row.updated_at.toISOString(),
    revision: row.revision,
    acknowledged:
      row.acknowledged_at && row.acknowledged_by
        ? {
            by: row.acknowledged_by,
            at: row.acknowledged_at.toISOString(),
            comment: row.acknowledgement_comment,
          }
        : null,
    assignee: row.assignee,
    closed:
      row.closed_at && row.closed_by
        ? { by: row.closed_by, at: row.closed_at.toISOString(), reason: row.close_reason ?? '' }
        : null,
  };
}

/** Lists alerts, newest first. */
export async function listAlerts(db: Kysely<Database>, filter: AlertFilter): Promise<AlertView[]> {
  let q = db.selectFrom('alerts as a').selectAll('a');
  if (filter.state) q = q.where('a.state', '=', filter.state);
  if (filter.severity) q = q.where('a.severity', '=', filter.severity);
  if (filter.institution) q = q.where('a.institution_code', '=', filter.institution);
  if (filter.rule) q = q.where('a.rule_id', '=', filter.rule);
  if (filter.region) q = q.where('a.region', '=', filter.region);
  if (filter.acknowledged !== undefined)
    q = q.where('a.acknowledged_at', filter.acknowledged ? 'is not' : 'is', null);
  if (filter.assignee) q = q.where('a.assignee', '=', filter.assignee);
  if (filter.silenced !== undefined) {
    if (!filter.at) throw new Error('the silenced filter needs the time it is judged at');
    const silenced = sql<boolean>`(a.state <> 'resolved' AND ${silencedAlertSql(filter.at)})`;
    q = q.where(filter.silenced ? silenced : sql<boolean>`NOT ${silenced}`);
  }
  const rows = await q
    .orderBy('a.updated_at', 'desc')
    .orderBy('a.id', 'desc')
    .limit(filter.limit ?? 500)
    .execute();
  return rows.map(toAlertView);
}

/** One alert by id with its events, oldest first. */
export async function findAlert(db: Kysely<Database>, id: number) {
  const row = await db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const events = await db
    .selectFrom('alert_events')
    .selectAll()
    .where('alert_id', '=', id)
    .orderBy('id')
    .execute();
  return {
    alert: toAlertView(row),
    events: events.map((e) => ({
      id: e.id,
      at: e.at.toISOString(),
      kind: e.kind,
      from: e.from_state,
      to: e.to_state,
      severity: e.severity,
      value: e.value,
      period: e.period,
      actor: e.actor,
      rules_hash: e.rules_hash,
      explanation: e.explanation,
      comment: e.comment,
      assignee: e.assignee,
      suppressed: e.suppressed,
    })),
  };
}
