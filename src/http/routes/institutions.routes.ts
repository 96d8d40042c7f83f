import { type RequestHandler, Router } from 'express';
import { listInstitutions } from '../../institutions/institution.repository.js';
import { saveInstitutions } from '../../institutions/institution.service.js';
import { institutionListQuery } from '../api.schemas.js';
import type { AppDeps } from '../app.deps.js';
import { type Access, principalOf, scopeInstitution } from '../auth.middleware.js';
import { parseQuery } from '../validate.js';

/** Institutions: listed by every role (institution keys see their own), created by admins. */
export function institutionsRoutes(deps: AppDeps, guard: (access: Access) => RequestHandler): Router {
  const router = Router();

  router.get('/institutions', guard(['admin', 'supervisor', 'institution']), async (req, res) => {
    const query = parseQuery(institutionListQuery, req.query);
    const code = scopeInstitution(principalOf(req), undefined);
    res.json({ institutions: await listInstitutions(deps.db, { ...query, code }) });
  });

  router.post('/institutions', guard(['admin']), async (req, res) => {
    const many = Array.isArray(req.body);
    const result = await saveInstitutions(
      deps.db,
      deps.rules.current().catalog,
      many ? req.body : [req.body],
      principalOf(req).name,
    );
    const status = result.created > 0 ? 201 : 200;
    if (many) {
      res.status(status).json(result);
      return;
    }
    const [saved] = await listInstitutions(deps.db, { code: result.codes[0] });
    res.status(status).json(saved);
  });

  return router;
}
