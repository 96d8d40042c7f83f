import { type RequestHandler, Router } from 'express';
import { reloadRules } from '../../rules/rules.reload.js';
import type { AppDeps } from '../app.deps.js';
import { AppError } from '../app-error.js';
import { type Access, principalOf } from '../auth.middleware.js';

/** The vocabulary and the rules in force, readable by every role. */
export function catalogRoutes(deps: AppDeps, guard: (access: Access) => RequestHandler): Router {
  const router = Router();
  const anyRole = guard(['admin', 'supervisor', 'institution']);

  router.get('/catalog', anyRole, (_req, res) => {
    const { catalog } = deps.rules.current();
    res.json({
      institution_types: [...catalog.types.values()],
      counties: [...catalog.counties.values()],
      institution_attributes: [...catalog.attributes.values()],
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

  // Re-reads rules/ in this replica; a folder with any problem leaves the rules in force untouched.
  router.post('/rules/reload', guard(['admin']), async (req, res) => {
    const result = await reloadRules(deps, principalOf(req).name);
    if (!result.ok) {
      throw AppError.unprocessable(
        'invalid_rules',
        `The rules folder has ${result.problems.length} problem(s); the previous rules stay in force`,
        result.problems.map((p) => ({
          code: 'invalid_rules',
          field: p.file,
          path: p.path,
          ...(p.line ? { row: p.line } : {}),
          message: p.message,
        })),
      );
    }
    res.json({ hash: result.hash, previous: result.previous, changed: result.changed });
  });

  return router;
}
