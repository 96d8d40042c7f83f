import './zod-openapi.js';
import { z } from 'zod';
import { ALERT_STATES, SEVERITIES, TRANSITION_KINDS } from '../alerts/alert.types.js';
import { replayRequestSchema } from '../alerts/replay.service.js';
import { SILENCE_STATES } from '../alerts/silence.js';
import { ROLES } from '../auth/api-key.js';
import { jsonUploadSchema } from '../ingest/json.parser.js';
import { TEMPLATE_FORMATS, TEMPLATE_LANGS } from '../ingest/template.js';
import { institutionInputSchema } from '../institutions/institution.schema.js';
import { NOTIFICATION_STATES } from '../notify/outbox.query.js';

/**
 * The zod schemas of the HTTP API: requests are validated with them and the OpenAPI document is
 * generated from them, so the two cannot drift apart.
 */

const bilingual = z.object({ zh: z.string(), en: z.string() });
const limit = z.coerce.number().int().min(1).max(1000).optional();
/** A query-string boolean: `true` or `false`, nothing else. */
const flag = z.enum(['true', 'false']).transform((v) => v === 'true');
export const idParam = z.strictObject({ id: z.coerce.number().int().positive() });
export const keyIdParam = z.strictObject({ id: z.string() });

export const institutionListQuery = z.strictObject({
  type: z.string().optional(),
  county: z.string().optional(),
});
export const institutionInput = institutionInputSchema;
export const institution = z.object({
  code: z.string(),
  name: z.string(),
  type: z.string(),
  county: z.string(),
  credit_code: z.string().nullable(),
  established_on: z.string().nullable(),
  attributes: z.record(z.string(), z.unknown()),
  created_at: z.string(),
});

export const createKeyBody = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    role: z.enum(ROLES),
    institution: z.string().trim().min(1).optional(),
    email: z
      .email()
      .max(254)
      .optional()
      .meta({ description: 'A receipt of every upload accepted with this key is e-mailed here' }),
  })
  .refine((k) => (k.role === 'institution') === (k.institution !== undefined), {
    message: 'institution is required for institution keys and not allowed for others',
    path: ['institution'],
  });
export const apiKey = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  institution: z.string().nullable(),
  email: z.string().nullable().meta({ description: 'Where receipts of uploads are e-mailed, if anywhere' }),
  prefix: z.string(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});

export const submissionListQuery = z.strictObject({
  institution: z.string().optional(),
  period: z.string().optional(),
  limit,
});
export const jsonSubmission = jsonUploadSchema;
export const submission = z.object({
  id: z.number(),
  upload_id: z.number(),
  institution: z.string(),
  period: z.string(),
  version: z.number(),
  current: z.boolean(),
  due_at: z.string().nullable(),
  late: z.boolean(),
  created_at: z.string(),
  uploaded_by: z.string(),
  file_name: z.string().nullable(),
  sha256: z.string(),
  observations: z.array(z.object({ metric: z.string(), value: z.number(), derived: z.boolean() })).optional(),
});
const problemDetail = z.object({
  code: z.string(),
  message: z.string(),
  row: z.number().optional(),
  column: z.number().optional(),
  field: z.string().optional(),
  path: z.string().optional(),
  value: z.unknown().optional(),
  check: z.string().optional(),
  limit: z.object({ name: z.string(), value: z.number() }).optional(),
});
export const uploadReceipt = z.object({
  id: z.number().optional().meta({ description: 'The submission id, when the upload made exactly one' }),
  version: z.number().optional(),
  upload_id: z.number(),
  status: z.literal('accepted'),
  replayed: z
    .boolean()
    .meta({ description: 'The same bytes had been accepted already; nothing new was written' }),
  received_at: z.string(),
  uploaded_by: z.string(),
  key_id: z.string(),
  file_name: z.string().nullable(),
  sha256: z.string(),
  bytes: z.number(),
  format: z.string(),
  encoding: z.string().optional(),
  sheet: z.string().optional(),
  rows: z.number(),
  observations: z.number(),
  institutions: z.number(),
  periods: z.array(z.string()),
  counts: z.object({
    rows: z.number(),
    observations: z.number(),
    submissions: z.number(),
    derived: z.number(),
    late: z.number(),
    warnings: z.number(),
    info: z.number(),
  }),
  submissions: z.array(
    z.object({
      id: z.number(),
      institution: z.string(),
      period: z.string(),
      version: z.number(),
      supersedes: z.number().nullable(),
      reported: z.number(),
      derived: z.array(z.string()),
      due_at: z.string().nullable(),
      late: z.boolean(),
    }),
  ),
  submissions_total: z.number(),
  warnings: z.array(problemDetail),
  info: z.array(problemDetail),
  explanation_required: z.boolean(),
  explanation: z.string().nullable(),
  alerts: z.array(
    z.object({
      id: z.number(),
      fingerprint: z.string(),
      kind: z.string(),
      state: z.string(),
      severity: z.string(),
      period: z.string(),
      value: z.number(),
    }),
  ),
});
export const uploadQuery = z.strictObject({
  charset: z.enum(['utf-8', 'gbk', 'gb2312', 'gb18030']).optional().meta({
    description:
      'CSV: the text encoding, when detection should not decide (default: UTF-8 if valid, else GB18030)',
  }),
  sheet: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .meta({ description: 'XLSX: the sheet to read (default: first visible)' }),
});
export const explanationBody = z.strictObject({ explanation: z.string().trim().min(1).max(4000) });

export const alertListQuery = z.strictObject({
  state: z.enum(ALERT_STATES).optional(),
  severity: z.enum(SEVERITIES).optional(),
  institution: z.string().optional(),
  rule: z.string().optional(),
  region: z
    .string()
    .regex(/^(county|type|city):.+$/)
    .optional()
    .meta({ description: 'Regional alerts of one region: county:<code>, type:<code> or city:*' }),
  acknowledged: flag.optional().meta({ description: 'true: acknowledged alerts only; false: the others' }),
  silenced: flag
    .optional()
    .meta({ description: 'true: active alerts a silence in force matches; false: the others' }),
  assignee: z.string().trim().min(1).optional(),
  limit,
});

export const notificationListQuery = z.strictObject({
  state: z
    .enum(NOTIFICATION_STATES)
    .optional()
    .meta({ description: 'failed: given up for good; partial: sent, but the relay refused some recipients' }),
  route: z.string().optional(),
  limit,
});

export const notification = z
  .object({
    id: z.number(),
    route: z.string(),
    kind: z
      .string()
      .meta({ description: 'digest, summary, receipt (or an alert change queued before digests)' }),
    mode: z.string().nullable().meta({ description: 'A digest: changes or reminder' }),
    status: z.enum(['pending', 'sending', 'sent', 'failed']),
    recipients: z.array(z.string()),
    refused_recipients: z
      .array(z.string())
      .meta({ description: 'Refused by the relay while it accepted the others' }),
    attempts: z.number(),
    last_error: z.string().nullable(),
    message_id: z.string().nullable(),
    alert_ids: z.array(z.number()),
    created_at: z.string(),
    next_attempt_at: z.string(),
    sent_at: z.string().nullable(),
  })
  .meta({ id: 'Notification' });

const explainedPeriod = z.object({
  period: z.string(),
  value: z.number().nullable().meta({ description: "The metric's own value (null where not read)" }),
  judged: z
    .number()
    .nullable()
    .meta({ description: 'The quantity judged where it differs from the value (a change, a z-score…)' }),
  submission_id: z.number().nullable(),
});

/** The explanation every alert carries (`AlertExplanation` in src/alerts/alert.types.ts; docs/rules.md). */
export const alertExplanation = z
  .object({
    rule: z.object({
      id: z.string(),
      kind: z.string(),
      source: z.string().meta({ description: 'The legal basis in force (an override’s where one applies)' }),
      reason: z.string().nullable(),
    }),
    quantity: z.object({
      metric: z.string(),
      name: z
        .string()
        .meta({ description: 'value, change, relative_change, moves, projected_value, robust_z, …' }),
      unit: z.string(),
    }),
    period: z.string(),
    value: z.number(),
    op: z.enum(['>', '>=', '<', '<=']),
    threshold: z.number(),
    margin: z
      .number()
      .meta({ description: 'How far beyond the threshold, in the quantity’s unit; > 0 breached' }),
    levels: z.array(z.object({ severity: z.enum(SEVERITIES), threshold: z.number() })),
    recovery: z.number().nullable(),
    override: z
      .object({
        source: z.string(),
        institutions: z.array(z.string()).nullable(),
        types: z.array(z.string()).nullable(),
        from: z.string().nullable(),
        until: z.string().nullable(),
      })
      .nullable(),
    run: z.object({
      first_period: z.string(),
      periods: z.number(),
      for: z.number(),
      kept_since: z.string().nullable(),
    }),
    periods: z.array(explainedPeriod).meta({ description: 'The run, oldest first, at most the last 24' }),
    periods_omitted: z.number(),
    detail: z
      .looseObject({ kind: z.string() })
      .meta({ description: 'The kind’s own facts: peer statistics, a projection’s fit, a region’s sums, …' }),
  })
  .meta({ id: 'AlertExplanation' });
export const alert = z.object({
  id: z.number(),
  fingerprint: z.string(),
  rule: z.string(),
  institution: z.string().nullable(),
  metric: z.string(),
  state: z.enum(ALERT_STATES),
  severity: z.string(),
  value: z.number().nullable(),
  threshold: z.number().nullable(),
  period: z.string(),
  first_period: z.string(),
  periods: z.number(),
  submission_id: z.number().nullable(),
  region: z
    .string()
    .nullable()
    .meta({ description: 'county:<code>, type:<code> or city:* for a regional alert; null otherwise' }),
  summary: bilingual,
  source: z.string().nullable(),
  explanation: alertExplanation
    .nullable()
    .meta({ description: 'Null for alerts recorded before explanations' }),
  started_at: z.string(),
  fired_at: z.string().nullable(),
  resolved_at: z.string().nullable(),
  updated_at: z.string(),
  revision: z.number().meta({
    description:
      'Counts every change of the alert (transitions and actions); send it back with an action to get 409 alert_changed instead of acting on a changed alert',
  }),
  acknowledged: z
    .object({ by: z.string(), at: z.string(), comment: z.string().nullable() })
    .nullable()
    .meta({ description: 'The acknowledgement in force; an escalation takes it away' }),
  assignee: z.string().nullable(),
  closed: z
    .object({ by: z.string(), at: z.string(), reason: z.string() })
    .nullable()
    .meta({ description: 'Set when a supervisor closed the alert (it is then resolved)' }),
  silenced_by: z.array(z.number()).meta({ description: 'Ids of the silences in force matching it now' }),
  inhibited_by: z
    .array(z.number())
    .meta({ description: 'Ids of the firing alerts inhibiting it now (rules/inhibitions.yaml)' }),
});
export const alertEvent = z.object({
  id: z.number(),
  at: z.string(),
  kind: z.string(),
  from: z.string().nullable(),
  to: z.string(),
  severity: z.string(),
  value: z.number().nullable(),
  period: z.string(),
  actor: z.string(),
  rules_hash: z.string().nullable().meta({
    description:
      'sha256 of the rule files of the evaluation that recorded this event (as GET /rules shows); null for events recorded before rule-set hashes were kept',
  }),
  explanation: alertExplanation
    .nullable()
    .meta({ description: 'Why the alert stood at this transition (a resolution: what cleared it)' }),
  comment: z
    .string()
    .nullable()
    .meta({ description: 'What a person wrote: an acknowledgement’s comment, a close reason, a comment' }),
  assignee: z
    .string()
    .nullable()
    .meta({ description: 'The assignee an assigned event set (null: unassigned)' }),
  suppressed: z
    .object({ silenced_by: z.array(z.number()), inhibited_by: z.array(z.number()) })
    .nullable()
    .meta({
      description:
        'For a transition that sent no e-mail: the silences and inhibiting alerts that held it back',
    }),
});

const comment = z.string().trim().min(1).max(4000);
const revision = z
  .number()
  .int()
  .positive()
  .optional()
  .meta({ description: 'The alert revision the caller saw; a different one answers 409 alert_changed' });
export const acknowledgeBody = z.strictObject({ comment: comment.optional(), revision });
export const unacknowledgeBody = z.strictObject({ comment: comment.optional(), revision });
export const assignBody = z.strictObject({
  assignee: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .nullable()
    .meta({ description: 'Who handles it; null unassigns' }),
  comment: comment.optional(),
  revision,
});
export const closeBody = z.strictObject({
  reason: comment.meta({ description: 'Why the supervisor closes it; required' }),
  revision,
});
export const commentBody = z.strictObject({ comment });
export const actionResult = z.object({
  alert,
  event: z
    .object({ id: z.number(), kind: z.string(), at: z.string() })
    .nullable()
    .meta({ description: 'The event recorded; null when nothing changed (assigning the same assignee)' }),
});

const silenceMatchers = z.object({
  rule: z.string().trim().min(1).nullable().optional(),
  institution: z.string().trim().min(1).nullable().optional(),
  institution_type: z.string().trim().min(1).nullable().optional(),
  county: z.string().trim().min(1).nullable().optional(),
  severity: z.enum(SEVERITIES).nullable().optional(),
});
export const silenceBody = z.strictObject({
  matchers: silenceMatchers.strict().meta({
    description:
      'Each an exact value, left out for any; at least one. A regional alert has no institution, type or county',
  }),
  starts_at: z.iso.datetime({ offset: true }).optional().meta({ description: 'Default and earliest: now' }),
  ends_at: z.iso
    .datetime({ offset: true })
    .meta({ description: 'After starts_at, in the future, within 366 days' }),
  reason: z.string().max(4000).meta({ description: 'Why; required. The author is the API key’s name' }),
});
export const silenceListQuery = z.strictObject({ state: z.enum(SILENCE_STATES).optional(), limit });
export const silence = z
  .object({
    id: z.number(),
    state: z.enum(SILENCE_STATES),
    matchers: z.object({
      rule: z.string().nullable(),
      institution: z.string().nullable(),
      institution_type: z.string().nullable(),
      county: z.string().nullable(),
      severity: z.string().nullable(),
    }),
    starts_at: z.string(),
    ends_at: z.string(),
    expires_at: z
      .string()
      .meta({ description: 'When it stops (stopped) holding back: ends_at, or when expired by hand' }),
    created_by: z.string(),
    reason: z.string(),
    created_at: z.string(),
    expired: z
      .object({ by: z.string(), at: z.string() })
      .nullable()
      .meta({ description: 'Set when someone expired it before ends_at' }),
  })
  .meta({ id: 'Silence' });

const fileProblem = z.object({
  file: z.string(),
  path: z.string(),
  line: z.number().optional(),
  message: z.string(),
});
export const rulesInForce = z.object({
  hash: z.string().meta({ description: 'sha256 over the rule files’ names and contents' }),
  loaded_at: z
    .string()
    .meta({ description: 'When these rules were loaded: at start or by the last good reload' }),
  files: z.array(z.string()),
  rules: z.array(z.record(z.string(), z.unknown())),
  last_reload_error: z
    .object({ at: z.string(), problems: z.array(fileProblem) })
    .nullable()
    .meta({ description: 'The problems of the latest reload when it failed; null once a reload succeeds' }),
});

export const replayBody = replayRequestSchema;
const replayAlert = z.object({
  rule: z.string(),
  institution: z.string().nullable(),
  metric: z.string(),
  state: z.enum(ALERT_STATES),
  severity: z.enum(SEVERITIES),
  value: z.number().nullable(),
  threshold: z.number().nullable(),
  period: z.string().meta({ description: 'The latest period judged' }),
  first_period: z.string().meta({ description: 'First period of the run of breaching periods' }),
  periods: z.number().meta({ description: 'Length of the run' }),
});
export const replayReport = z.object({
  rules_hash: z.string().meta({ description: 'The rule set replayed (the rules in force)' }),
  from: z.string(),
  to: z.string(),
  institutions: z.number().meta({ description: 'Institutions evaluated' }),
  rules: z.array(z.string()).meta({ description: 'Rules replayed' }),
  skipped_rules: z
    .array(z.object({ rule: z.string(), reason: z.string() }))
    .meta({ description: 'Rules a replay cannot judge (missing-filing rules), with why' }),
  initial: z.array(replayAlert).meta({ description: 'Alerts active at the end of the month before from' }),
  timeline: z.array(
    z.object({
      period: z.string(),
      transitions: z.array(
        replayAlert.extend({
          kind: z.enum(TRANSITION_KINDS),
          from: z.enum(ALERT_STATES).nullable().meta({ description: 'State before; null for a new alert' }),
        }),
      ),
      errors: z
        .array(z.object({ rule: z.string(), error: z.string() }))
        .meta({ description: 'Rules that failed in this month; their alerts stayed as they were' }),
    }),
  ),
  final: z.array(replayAlert).meta({ description: 'Alerts active at the end of to' }),
  totals: z.record(z.string(), z.number()).meta({ description: 'Transitions by kind over the range' }),
});

export const templateParams = z.strictObject({ institutionType: z.string() });
export const templateQuery = z.strictObject({
  format: z.enum(TEMPLATE_FORMATS).default('xlsx'),
  lang: z.enum(TEMPLATE_LANGS).default('zh'),
  /** The month of the prefilled row; the latest ended month in the regulator's time zone when absent. */
  period: z
    .string()
    .regex(/^(19|2\d)\d{2}-(0[1-9]|1[0-2])$/, 'must be a month such as 2024-06')
    .optional(),
});

/** RFC 9457 problem details, with located data problems in `errors`. */
export const problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  code: z.string(),
  detail: z.string(),
  instance: z.string(),
  errors_total: z.number().optional(),
  errors: z.array(problemDetail).optional(),
});
