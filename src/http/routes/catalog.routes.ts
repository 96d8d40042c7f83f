import { type RequestHandler, Router } from 'express';
import type { AppDeps } from '../app.deps.js';
import type { Access } from '../auth.middleware.js';

/** The vocabulary and the rules in force, readable by every role. */
export function catalogRoutes(deps: AppDeps, guard: (access: Access) => RequestHandler): Router {
  const router = Router();
  const anyRole = guard(['admin', 'supervisor', 'institution']);

  router.get('/catalog', anyRole, (_req, res) => {
    const { catalog } = deps.rules.current();
    res.json({
      institution_types: [...catalog.types.values()],
      counties: [...catalog.counties.values()],
      metrics: [...catalog.metrics.values()],
    });
  });

  router.get('/rules', anyRole, (_req, res) => {
    const current = deps.rules.current();
    const lastError = deps.rules.lastError();
    res.json({
      hash: current.hash,
      loaded_at: current.loadedAt.toISOString(),
      files: current.files,
      rules: current.rules,
      last_reload_error: lastError ? { at: lastError.at.toISOString(), problems: lastError.problems } : null,
    });
  });

  return router;
}
