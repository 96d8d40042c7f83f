import { type RequestHandler, Router } from 'express';
import { z } from 'zod';
import { findAlert, listAlerts } from '../../alerts/alert.repository.js';
import { ALERT_STATES, SEVERITIES } from '../../alerts/alert.types.js';
import type { AppDeps } from '../app.deps.js';
import { AppError } from '../app-error.js';
import { type Access, principalOf, scopeInstitution } from '../auth.middleware.js';
import { parseQuery } from '../validate.js';

const listQuery = z.strictObject({
  state: z.enum(ALERT_STATES).optional(),
  severity: z.enum(SEVERITIES).optional(),
  institution: z.string().optional(),
  rule: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
const idParam = z.strictObject({ id: z.coerce.number().int().positive() });

/** Alerts: supervisors and admins see all, institution keys their own institution's. */
export function alertsRoutes(deps: AppDeps, guard: (access: Access) => RequestHandler): Router {
  const router = Router();
  const roles = guard(['admin', 'supervisor', 'institution']);

  router.get('/alerts', roles, async (req, res) => {
    const query = parseQuery(listQuery, req.query);
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
