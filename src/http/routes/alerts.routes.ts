import { type RequestHandler, Router } from 'express';
import { findAlert, listAlerts } from '../../alerts/alert.repository.js';
import { alertListQuery, idParam } from '../api.schemas.js';
import type { AppDeps } from '../app.deps.js';
import { AppError } from '../app-error.js';
import { type Access, principalOf, scopeInstitution } from '../auth.middleware.js';
import { parseQuery } from '../validate.js';

/** Alerts: supervisors and admins see all, institution keys their own institution's. */
export function alertsRoutes(deps: AppDeps, guard: (access: Access) => RequestHandler): Router {
  const router = Router();
  const roles = guard(['admin', 'supervisor', 'institution']);

  router.get('/alerts', roles, async (req, res) => {
    const query = parseQuery(alertListQuery, req.query);
    const institution = scopeInstitution(principalOf(req), query.institution);
    res.json({ alerts: await listAlerts(deps.db, { ...query, institution }) });
  });

  router.get('/alerts/:id', roles, async (req, res) => {
    const { id } = parseQuery(idParam, req.params);
    const found = await findAlert(deps.db, id);
    const principal = principalOf(req);
    if (!found || (principal.role === 'institution' && found.alert.institution !== principal.institution)) {
      throw AppError.notFound(`Alert ${id}`);
    }
    res.json(found);
  });

  router.get('/alerts/:id/events', roles, async (req, res) => {
    const { id } = parseQuery(idParam, req.params);
    const found = await findAlert(deps.db, id);
    const principal = principalOf(req);
    if (!found || (principal.role === 'institution' && found.alert.institution !== principal.institution)) {
      throw AppError.notFound(`Alert ${id}`);
    }
    res.json({ events: found.events });
  });

  return router;
}
