import { type RequestHandler, Router } from 'express';
import { findAlert, listAlerts } from '../../alerts/alert.repository.js';
import type { Principal } from '../../auth/api-key.js';
import { alertListQuery, idParam } from '../api.schemas.js';
import type { AppDeps } from '../app.deps.js';
import { type Access, principalOf, scopeInstitution, visibleOrNotFound } from '../auth.middleware.js';
import { parseQuery } from '../validate.js';

/** Alerts: supervisors and admins see all, institution keys their own institution's. */
export function alertsRoutes(deps: AppDeps, guard: (access: Access) => RequestHandler): Router {
  const router = Router();
  const roles = guard(['admin', 'supervisor', 'institution']);
  const visibleAlert = async (principal: Principal, id: number) =>
    visibleOrNotFound(
      principal,
      await findAlert(deps.db, id),
      (found) => found.alert.institution,
      `Alert ${id}`,
    );

  router.get('/alerts', roles, async (req, res) => {
    const query = parseQuery(alertListQuery, req.query);
    const institution = scopeInstitution(principalOf(req), query.institution);
    res.json({ alerts: await listAlerts(deps.db, { ...query, institution }) });
  });

  router.get('/alerts/:id', roles, async (req, res) => {
    const { id } = parseQuery(idParam, req.params);
    res.json(await visibleAlert(principalOf(req), id));
  });

  router.get('/alerts/:id/events', roles, async (req, res) => {
    const { id } = parseQuery(idParam, req.params);
    res.json({ events: (await visibleAlert(principalOf(req), id)).events });
  });

  return router;
}
