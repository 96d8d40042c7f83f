import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { VERSION } from '../version.js';
import * as s from './api.schemas.js';

type Roles = 'public' | string[];
type Json = z.ZodType;

const json = (schema: Json, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

/**
 * Builds the OpenAPI 3.1 document from the same zod schemas the routes validate with.
 * Each operation states the roles allowed in `x-roles`.
 */
export function buildOpenApiDocument(publicUrl: string) {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key: `Authorization: Bearer rw_…`',
  });
  const problem = registry.register('Problem', s.problem);
  const errors = {
    400: { description: 'Bad request', content: { 'application/problem+json': { schema: problem } } },
    401: { description: 'No valid API key', content: { 'application/problem+json': { schema: problem } } },
    403: {
      description: 'The key may not do this',
      content: { 'application/problem+json': { schema: problem } },
    },
  };
  const route = (roles: Roles, config: RouteConfig) =>
    registry.registerPath({
      ...config,
      ...(roles === 'public'
        ? {}
        : { security: [{ [bearer.name]: [] }], responses: { ...errors, ...config.responses } }),
      'x-roles': roles,
    } as RouteConfig);

  const institution = registry.register('Institution', s.institution);
  const alert = registry.register('Alert', s.alert);
  const submission = registry.register('Submission', s.submission);
  const receipt = registry.register('UploadReceipt', s.uploadReceipt);
  const key = registry.register('ApiKey', s.apiKey);
  const replayReport = registry.register('ReplayReport', s.replayReport);
  const unprocessable = {
    description: 'Invalid data: every problem, located; nothing was stored',
    content: { 'application/problem+json': { schema: problem } },
  };
  const notFound = { description: 'Not found', content: { 'application/problem+json': { schema: problem } } };

  route('public', {
    method: 'get',
    path: '/healthz',
    summary: 'Liveness',
    responses: { 200: json(z.object({ status: z.literal('ok') }), 'Alive') },
  });
  route('public', {
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: the database answers',
    responses: {
      200: json(z.object({ status: z.string() }), 'Ready'),
      503: json(z.object({ status: z.string() }), 'Not ready'),
    },
  });
  route('public', {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics (bearer METRICS_TOKEN when configured)',
    responses: {
      200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } },
    },
  });
  route('public', {
    method: 'get',
    path: '/api/v1/openapi.json',
    summary: 'This document',
    responses: { 200: json(z.record(z.string(), z.unknown()), 'OpenAPI 3.1') },
  });

  route(['admin', 'supervisor', 'institution'], {
    method: 'get',
    path: '/api/v1/institutions',
    summary: 'List institutions (institution keys: their own)',
    request: { query: s.institutionListQuery },
    responses: { 200: json(z.object({ institutions: z.array(institution) }), 'Institutions') },
  });
  route(['admin'], {
    method: 'post',
    path: '/api/v1/institutions',
    summary: 'Create or update one institution, or an array of them',
    request: {
      body: {
        content: {
          'application/json': { schema: z.union([s.institutionInput, z.array(s.institutionInput)]) },
        },
      },
    },
    responses: { 200: json(institution, 'Updated'), 201: json(institution, 'Created'), 422: unprocessable },
  });

  route(['admin'], {
    method: 'post',
    path: '/api/v1/keys',
    summary: 'Create an API key; the token is shown only in this answer',
    request: { body: { content: { 'application/json': { schema: s.createKeyBody } } } },
    responses: { 201: json(s.apiKey.extend({ token: z.string() }), 'Created'), 422: unprocessable },
  });
  route(['admin'], {
    method: 'get',
    path: '/api/v1/keys',
    summary: 'List API keys, never their secrets',
    responses: { 200: json(z.object({ keys: z.array(key) }), 'Keys') },
  });
  route(['admin'], {
    method: 'delete',
    path: '/api/v1/keys/{id}',
    summary: 'Revoke an API key',
    request: { params: s.keyIdParam },
    responses: { 204: { description: 'Revoked' }, 404: notFound },
  });

  route(['admin', 'supervisor', 'institution'], {
    method: 'post',
    path: '/api/v1/submissions',
    summary:
      'Upload observations: CSV (long or wide, UTF-8/GB18030/UTF-16), XLSX, or JSON; validated whole, stored atomically',
    request: {
      query: s.uploadQuery,
      body: {
        content: {
          'multipart/form-data': {
            schema: z.object({
              file: z.string().meta({ format: 'binary' }),
              explanation: z
                .string()
                .optional()
                .meta({ description: 'Explains the warnings the upload may raise' }),
              sheet: z.string().optional().meta({ description: 'XLSX: the sheet to read' }),
              charset: z.string().optional().meta({ description: 'CSV: utf-8, gbk, gb2312 or gb18030' }),
            }),
          },
          'application/json': { schema: s.jsonSubmission },
        },
      },
    },
    responses: {
      200: json(
        receipt,
        'The same bytes were accepted before and are still current: nothing new was written',
      ),
      201: json(receipt, 'Stored as new submission versions'),
      413: { description: 'File too large, or too many rows (the problem names the limit)' },
      415: { description: 'Unsupported file format' },
      422: unprocessable,
    },
  });
  route(['admin', 'supervisor', 'institution'], {
    method: 'get',
    path: '/api/v1/submissions',
    summary: 'Submission versions, newest first',
    request: { query: s.submissionListQuery },
    responses: { 200: json(z.object({ submissions: z.array(submission) }), 'Submissions') },
  });
  route(['admin', 'supervisor', 'institution'], {
    method: 'get',
    path: '/api/v1/submissions/{id}',
    summary: 'One submission version with its observations',
    request: { params: s.idParam },
    responses: { 200: json(submission, 'Submission'), 404: notFound },
  });

  route(['admin', 'supervisor', 'institution'], {
    method: 'get',
    path: '/api/v1/uploads/{id}',
    summary: 'The receipt of an accepted upload, as first answered, with the current explanation',
    request: { params: s.idParam },
    responses: { 200: json(receipt, 'Receipt'), 404: notFound },
  });
  route(['admin', 'supervisor', 'institution'], {
    method: 'post',
    path: '/api/v1/uploads/{id}/explanation',
    summary: "Explain an upload's warnings (the uploader's institution, or an admin/supervisor)",
    request: { params: s.idParam, body: { content: { 'application/json': { schema: s.explanationBody } } } },
    responses: { 200: json(receipt, 'Receipt with the explanation'), 404: notFound, 422: unprocessable },
  });

  route(['admin', 'supervisor', 'institution'], {
    method: 'get',
    path: '/api/v1/alerts',
    summary:
      'Alerts, newest first, with acknowledgement, assignee, closing and what silences or inhibits them now',
    request: { query: s.alertListQuery },
    responses: { 200: json(z.object({ alerts: z.array(alert) }), 'Alerts') },
  });
  route(['admin', 'supervisor', 'institution'], {
    method: 'get',
    path: '/api/v1/alerts/{id}',
    summary: 'One alert with its history',
    request: { params: s.idParam },
    responses: { 200: json(z.object({ alert, events: z.array(s.alertEvent) }), 'Alert'), 404: notFound },
  });
  route(['admin', 'supervisor'], {
    method: 'get',
    path: '/api/v1/notifications',
    summary: 'Notifications (digests, reminders, summaries, receipts) with their delivery, newest first',
    request: { query: s.notificationListQuery },
    responses: {
      200: json(z.object({ notifications: z.array(s.notification) }), 'Notifications'),
    },
  });
  route(['admin', 'supervisor', 'institution'], {
    method: 'get',
    path: '/api/v1/alerts/{id}/events',
    summary: "An alert's state history",
    request: { params: s.idParam },
    responses: { 200: json(z.object({ events: z.array(s.alertEvent) }), 'Events'), 404: notFound },
  });

  const conflict = {
    description:
      'The alert changed since the revision sent (alert_changed), or the action does not apply to it now (alert_resolved, alert_already_acknowledged, alert_not_acknowledged)',
    content: { 'application/problem+json': { schema: problem } },
  };
  const actionResult = registry.register('AlertActionResult', s.actionResult);
  const alertAction = (path: string, summary: string, body: Json, status = 200) =>
    route(['admin', 'supervisor'], {
      method: 'post',
      path: `/api/v1/alerts/{id}/${path}`,
      summary,
      request: { params: s.idParam, body: { content: { 'application/json': { schema: body } } } },
      responses: {
        [status]: json(actionResult, 'The alert as it now is and the event recorded'),
        404: notFound,
        409: conflict,
        422: unprocessable,
      },
    });
  alertAction(
    'acknowledge',
    'Acknowledge a pending or firing alert, with an optional comment',
    s.acknowledgeBody,
  );
  alertAction('unacknowledge', 'Take an acknowledgement back', s.unacknowledgeBody);
  alertAction('assign', 'Assign a pending or firing alert to someone (null unassigns)', s.assignBody);
  alertAction(
    'close',
    'Close a pending or firing alert with a reason: it is resolved, and the same breach does not open again',
    s.closeBody,
  );
  alertAction('comments', "Add a comment to an alert's history, in any state", s.commentBody, 201);

  const silence = registry.register('Silence', s.silence);
  route(['admin', 'supervisor'], {
    method: 'get',
    path: '/api/v1/silences',
    summary: 'Silences, newest first, with their state now',
    request: { query: s.silenceListQuery },
    responses: { 200: json(z.object({ silences: z.array(silence) }), 'Silences') },
  });
  route(['admin', 'supervisor'], {
    method: 'post',
    path: '/api/v1/silences',
    summary: 'Silence the notifications of matching alerts for a time; their events are still recorded',
    request: { body: { content: { 'application/json': { schema: s.silenceBody } } } },
    responses: { 201: json(silence, 'Created'), 422: unprocessable },
  });
  route(['admin', 'supervisor'], {
    method: 'get',
    path: '/api/v1/silences/{id}',
    summary: 'One silence',
    request: { params: s.idParam },
    responses: { 200: json(silence, 'Silence'), 404: notFound },
  });
  route(['admin', 'supervisor'], {
    method: 'delete',
    path: '/api/v1/silences/{id}',
    summary: 'Expire a silence now; it is kept, with who expired it',
    request: { params: s.idParam },
    responses: {
      200: json(silence, 'Expired'),
      404: notFound,
      409: {
        description: 'Already expired (silence_expired)',
        content: { 'application/problem+json': { schema: problem } },
      },
    },
  });

  route(['admin', 'supervisor', 'institution'], {
    method: 'get',
    path: '/api/v1/catalog',
    summary: 'Institution types, counties, institution attributes and metrics',
    responses: { 200: json(z.record(z.string(), z.unknown()), 'Catalog') },
  });
  route(['admin', 'supervisor', 'institution'], {
    method: 'get',
    path: '/api/v1/rules',
    summary: 'The rules in force, their hash, when they were loaded, and the last reload error',
    responses: { 200: json(s.rulesInForce, 'Rules') },
  });
  route(['admin', 'supervisor', 'institution'], {
    method: 'get',
    path: '/api/v1/templates/{institutionType}',
    summary:
      'The wide-layout upload template of an institution type (CSV or XLSX), prefilled with the period and an institution key’s own code',
    request: { params: s.templateParams, query: s.templateQuery },
    responses: {
      200: {
        description: 'The template, as an attachment (Content-Disposition names the file)',
        content: {
          'text/csv; charset=utf-8': { schema: z.string() },
          'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {
            schema: z.string().meta({ format: 'binary' }),
          },
        },
      },
      404: notFound,
    },
  });

  route(['admin'], {
    method: 'post',
    path: '/api/v1/rules/reload',
    summary: 'Re-read the rules folder; on any problem the previous rules stay in force',
    responses: {
      200: json(z.object({ hash: z.string(), previous: z.string(), changed: z.boolean() }), 'Reloaded'),
      422: unprocessable,
    },
  });

  route(['admin', 'supervisor'], {
    method: 'post',
    path: '/api/v1/rules/replay',
    summary:
      'What the rules in force would have done, month by month, over stored history; writes nothing and notifies no one',
    request: { body: { content: { 'application/json': { schema: s.replayBody } } } },
    responses: {
      200: json(replayReport, 'The transitions each month would have seen'),
      422: {
        description:
          'Invalid body, an unknown institution, or a replay past its limits (replay_too_large names the limit)',
        content: { 'application/problem+json': { schema: problem } },
      },
    },
  });

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'RiskWatch API',
      version: VERSION,
      description:
        'Early-warning monitoring of local banks and quasi-financial firms. Errors are RFC 9457 problem+json.',
    },
    servers: [{ url: publicUrl }],
  });
}
