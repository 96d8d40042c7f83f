import { type RequestHandler, Router } from 'express';
import { findAlert, listAlerts } from '../../alerts/alert.repository.js';
import { actOnAlert } from '../../alerts/alert-action.service.js';
import { withSuppressionStatus } from '../../alerts/alert-status.service.js';
import type { AlertAction } from '../../alerts/lifecycle.js';
import type { Principal } from '../../auth/api-key.js';
import {
  acknowledgeBody,
  alertListQuery,
  assignBody,
  closeBody,
  commentBody,
  idParam,
  unacknowledgeBody,
} from '../api.schemas.js';
import type { AppDeps } from '../app.deps.js';
import { type Access, principalOf, scopeInstitution, visibleOrNotFound } from '../auth.middleware.js';
import { parseBody, parseQuery } from '../validate.js';

/**
 * Alerts: supervisors and admins see all, institution keys their own institution's. Supervisors and
 * admins act on them (acknowledge, assign, close, comment); institution keys may not.
 */
export function alertsRoutes(deps: AppDeps, guard: (access: Access) => RequestHandler): Router {
  const router = Router();
  const roles = guard(['admin', 'supervisor', 'institution']);
  const actors = guard(['admin', 'supervisor']);
  const visibleAlert = async (principal: Principal, id: number) =>
    visibleOrNotFound(
      principal,
      await findAlert(deps.db, id),
      (found) => found.alert.institution,
      `Alert ${id}`,
    );
  // One instant per request: what a list filters by silence and the silences it shows must agree.
  const withStatus = <T extends Parameters<typeof withSuppressionStatus>[1]>(views: T, at = deps.clock()) =>
    withSuppressionStatus(deps.db, views, deps.rules.current(), at);

  router.get('/alerts', roles, async (req, res) => {
    const query = parseQuery(alertListQuery, req.query);
    const institution = scopeInstitution(principalOf(req), query.institution);
    const at = deps.clock();
    res.json({ alerts: await withStatus(await listAlerts(deps.db, { ...query, institution, at }), at) });
  });

  router.get('/alerts/:id', roles, async (req, res) => {
    const { id } = parseQuery(idParam, req.params);
    const found = await visibleAlert(principalOf(req), id);
    const [alert] = await withStatus([found.alert]);
    res.json({ ...found, alert });
  });

  router.get('/alerts/:id/events', roles, async (req, res) => {
    const { id } = parseQuery(idParam, req.params);
    res.json({ events: (await visibleAlert(principalOf(req), id)).events });
  });

  /** One write route: validates the body, applies the action, answers the alert as it now is. */
  const action = (
    path: string,
    toAction: (body: unknown) => { action: AlertAction; revision?: number | undefined },
    status = 200,
  ) =>
    router.post(`/alerts/:id/${path}`, actors, async (req, res) => {
      const { id } = parseQuery(idParam, req.params);
      const { action, revision } = toAction(req.body ?? {});
      const now = deps.clock();
      const result = await actOnAlert(deps.db, id, action, principalOf(req).name, now, revision);
      const [alert] = await withStatus([result.alert], now);
      res.status(status).json({ ...result, alert });
    });

  action('acknowledge', (body) => {
    const { comment, revision } = parseBody(acknowledgeBody, body);
    return { action: { kind: 'acknowledge', comment }, revision };
  });
  action('unacknowledge', (body) => {
    const { comment, revision } = parseBody(unacknowledgeBody, body);
    return { action: { kind: 'unacknowledge', comment }, revision };
  });
  action('assign', (body) => {
    const { assignee, comment, revision } = parseBody(assignBody, body);
    return { action: { kind: 'assign', assignee, comment }, revision };
  });
  action('close', (body) => {
    const { reason, revision } = parseBody(closeBody, body);
    return { action: { kind: 'close', reason }, revision };
  });
  action(
    'comments',
    (body) => ({ action: { kind: 'comment', comment: parseBody(commentBody, body).comment } }),
    201,
  );

  return router;
}
