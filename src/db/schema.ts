import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { AlertExplanation } from '../alerts/alert.types.js';

/** Timestamps: written as Date or ISO string, read as Date. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface InstitutionTable {
  code: string;
  name: string;
  type: string;
  county: string;
  credit_code: string | null;
  /** The date the institution was established: no data is expected for earlier periods. */
  established_on: ColumnType<string | null, string | null | undefined, string | null>;
  attributes: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface ApiKeyTable {
  id: string;
  name: string;
  role: 'admin' | 'supervisor' | 'institution';
  institution_code: string | null;
  token_hash: string;
  token_prefix: string;
  /** Where receipts of this key's uploads are e-mailed; none when null. */
  email: ColumnType<string | null, string | null | undefined, string | null>;
  created_by: string | null;
  created_at: ColumnType<Date, never, never>;
  revoked_at: Timestamp | null;
}

export interface UploadTable {
  id: Generated<number>;
  file_name: string | null;
  file_sha256: string;
  format: string;
  row_count: number;
  uploaded_by: string;
  /** The id of the API key that uploaded (never the key itself); null for the CLI. */
  key_id: string | null;
  byte_count: number | null;
  /** The receipt as answered to the uploader, kept so it can be fetched again. */
  receipt: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  warning_count: ColumnType<number, number | undefined, number>;
  explanation: string | null;
  explained_by: string | null;
  explained_at: Timestamp | null;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface SubmissionTable {
  id: Generated<number>;
  upload_id: number;
  institution_code: string;
  period: string;
  version: number;
  is_current: ColumnType<boolean, boolean | undefined, boolean>;
  /** When the filing for this period was due; null when the frequency has no deadline. */
  due_at: Timestamp | null;
  late: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface ObservationTable {
  submission_id: number;
  institution_code: string;
  period: string;
  metric: string;
  /** numeric in SQL, parsed to a JS number by the connection's type parsers. */
  value: number;
  derived: ColumnType<boolean, boolean | undefined, boolean>;
}

export interface AlertTable {
  id: Generated<number>;
  fingerprint: string;
  rule_id: string;
  institution_code: string | null;
  metric: string;
  state: 'pending' | 'firing' | 'resolved';
  severity: string;
  value: number | null;
  threshold: number | null;
  period: string;
  first_period: string;
  periods: ColumnType<number, number | undefined, number>;
  submission_id: number | null;
  summary: Json<{ zh: string; en: string }>;
  source: string | null;
  started_at: Timestamp;
  fired_at: Timestamp | null;
  resolved_at: Timestamp | null;
  updated_at: Timestamp;
  /** Why the alert stands (`AlertExplanation`); null for alerts recorded before explanations. */
  explanation: ColumnType<AlertExplanation | null, string | null | undefined, string | null>;
  /** `county:<code>`, `type:<code>` or `city:*` for a regional alert; null for an institution's. */
  region: ColumnType<string | null, string | null | undefined, string | null>;
  /** Counts every change of the row (transitions and actions), for optimistic concurrency. */
  revision: ColumnType<number, number | undefined, number>;
  acknowledged_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** The API key name (actor) that acknowledged. */
  acknowledged_by: ColumnType<string | null, string | null | undefined, string | null>;
  acknowledgement_comment: ColumnType<string | null, string | null | undefined, string | null>;
  assignee: ColumnType<string | null, string | null | undefined, string | null>;
  /** Set when a supervisor closed the alert (it is then `resolved`). */
  closed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  closed_by: ColumnType<string | null, string | null | undefined, string | null>;
  close_reason: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface AlertEventTable {
  id: Generated<number>;
  alert_id: number;
  at: Timestamp;
  kind: string;
  from_state: string | null;
  to_state: string;
  severity: string;
  value: number | null;
  period: string;
  actor: string;
  /** sha256 of the rule files of the evaluation that recorded the event; null for older events. */
  rules_hash: ColumnType<string | null, string | null | undefined, string | null>;
  /** The alert's explanation at this transition; null for older events. */
  explanation: ColumnType<AlertExplanation | null, string | null | undefined, string | null>;
  /** What a person wrote: an acknowledgement's comment, a close reason, a comment. */
  comment: ColumnType<string | null, string | null | undefined, string | null>;
  /** The assignee an `assigned` event set (null: unassigned). */
  assignee: ColumnType<string | null, string | null | undefined, string | null>;
  /** Why a notified transition sent no e-mail; null when it was not held back. */
  suppressed: ColumnType<EventSuppression | null, string | null | undefined, string | null>;
}

/** The silences and inhibiting alerts that held an event's notification back. */
export interface EventSuppression {
  readonly silenced_by: readonly number[];
  readonly inhibited_by: readonly number[];
}

/** A silence: notifications of matching alerts are held back from `starts_at` until `ends_at`. */
export interface SilenceTable {
  id: Generated<number>;
  rule_id: string | null;
  institution_code: string | null;
  institution_type: string | null;
  county: string | null;
  severity: string | null;
  starts_at: Timestamp;
  ends_at: Timestamp;
  created_by: string;
  reason: string;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  /** Set when someone expired the silence before `ends_at`. */
  expired_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  expired_by: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface NotificationOutboxTable {
  id: Generated<number>;
  idempotency_key: string;
  alert_id: number | null;
  event_id: number | null;
  route: string;
  recipients: Json<string[]>;
  payload: Json<Record<string, unknown>>;
  status: ColumnType<
    'pending' | 'sending' | 'sent' | 'failed',
    'pending' | undefined,
    'pending' | 'sending' | 'sent' | 'failed'
  >;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>;
  locked_until: Timestamp | null;
  /** The dispatcher (replica) holding or last holding the row's claim. */
  claimed_by: ColumnType<string | null, string | null | undefined, string | null>;
  last_error: string | null;
  message_id: string | null;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  sent_at: Timestamp | null;
  /** Recipients the relay refused while it accepted the others (the row is `sent`). */
  refused_recipients: ColumnType<string[], string | undefined, string>;
}

/**
 * An alert event waiting, per route and group, for its digest (docs/notifications.md). `digest_id`
 * is the outbox row that took it; null while the group waits.
 */
export interface NotificationItemTable {
  id: Generated<number>;
  route: string;
  group_key: string;
  event_id: number;
  alert_id: number;
  institution_code: string | null;
  severity: string;
  kind: string;
  recipients: Json<string[]>;
  lang: string;
  /** The alert payload (`AlertPayload`) frozen when the event was recorded. */
  payload: Json<Record<string, unknown>>;
  event_at: Timestamp;
  /** When the group may be flushed at the earliest: `event_at` + the route's `group_wait`. */
  due_at: Timestamp;
  digest_id: ColumnType<number | null, number | null | undefined, number | null>;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: ColumnType<Date, Date | string | undefined, never>;
  actor: string;
  action: string;
  target: string | null;
  details: Json<Record<string, unknown>>;
}

/** A completed scheduled evaluation of every institution (see evaluation.full.ts). */
export interface EvaluationRunTable {
  id: Generated<number>;
  mode: 'window' | 'deep';
  /** The rules hash and a fingerprint of the catalog's metrics: what the alerts were computed by. */
  evaluation_key: string;
  rules_hash: string;
  /** The evaluation's `now`. */
  evaluated_at: Timestamp;
  started_at: Timestamp;
  finished_at: Timestamp;
  institutions: number;
  transitions: number;
}

export interface JobRunTable {
  job: string;
  slot: string;
  claimed_by: string;
  claimed_at: ColumnType<Date, Date | string | undefined, never>;
  /** When the claimed slot's run ended (whatever its outcome); null while it runs or if it never ended. */
  finished_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

/**
 * Every table of data, children before parents, so that truncating or dropping in this order respects
 * foreign keys. Not `change_epochs`: its one row outlives the data (emptying `institutions` moves its
 * counter on, so a cache never takes new rows with reused ids for the old).
 */
export const TABLES = [
  'evaluation_runs',
  'job_runs',
  'audit_log',
  'notification_items',
  'notification_outbox',
  'alert_events',
  'alerts',
  'silences',
  'observations',
  'submissions',
  'uploads',
  'api_keys',
  'institutions',
] as const satisfies readonly (keyof Database)[];

/** One row: what tells a cache that institutions changed (migration 2026-12-01T0200_peer_cache). */
export interface ChangeEpochTable {
  singleton: Generated<boolean>;
  database_id: Generated<string>;
  institutions: Generated<number>;
}

/** The whole database as Kysely sees it. */
export interface Database {
  institutions: InstitutionTable;
  api_keys: ApiKeyTable;
  uploads: UploadTable;
  submissions: SubmissionTable;
  observations: ObservationTable;
  alerts: AlertTable;
  alert_events: AlertEventTable;
  silences: SilenceTable;
  notification_outbox: NotificationOutboxTable;
  notification_items: NotificationItemTable;
  audit_log: AuditLogTable;
  job_runs: JobRunTable;
  evaluation_runs: EvaluationRunTable;
  change_epochs: ChangeEpochTable;
}

export type InstitutionRow = Selectable<InstitutionTable>;
export type ApiKeyRow = Selectable<ApiKeyTable>;
export type SubmissionRow = Selectable<SubmissionTable>;
export type ObservationRow = Selectable<ObservationTable>;
export type AlertRow = Selectable<AlertTable>;
export type NewAlertRow = Insertable<AlertTable>;
export type AlertEventRow = Selectable<AlertEventTable>;
export type SilenceRow = Selectable<SilenceTable>;
export type OutboxRow = Selectable<NotificationOutboxTable>;
export type NotificationItemRow = Selectable<NotificationItemTable>;
