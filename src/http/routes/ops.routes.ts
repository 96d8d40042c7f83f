import { type RequestHandler, Router } from 'express';
import { sql } from 'kysely';
import { tokensEqual } from '../../auth/api-key.js';
import type { AppDeps } from '../app.deps.js';
import { AppError } from '../app-error.js';
import { type Access, bearerToken } from '../auth.middleware.js';
import { buildOpenApiDocument } from '../openapi.js';

/** Liveness, readiness and Prometheus metrics, outside `/api/v1`. */
export function opsRoutes(deps: AppDeps, guard: (access: Access) => RequestHandler): Router {
  const router = Router();

  router.get('/healthz', guard('public'), (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Ready only while the database answers: a load balancer then stops sending uploads that would fail.
  router.get('/readyz', guard('public'), async (_req, res) => {
    try {
      await sql`SELECT 1`.execute(deps.db);
      res.json({ status: 'ready', rules_hash: deps.rules.current().hash });
    } catch {
      res.status(503).json({ status: 'not ready', reason: 'database unavailable' });
    }
  });

  // Protected by METRICS_TOKEN when set, in the bearer form Prometheus's `authorization` sends.
  router.get('/metrics', guard('public'), async (req, res) => {
    const expected = deps.config.metricsToken;
    if (expected) {
      const token = bearerToken(req);
      if (!token || !tokensEqual(token, expected))
        throw AppError.unauthorized('A valid metrics token is required');
    }
    const body = await deps.metrics.registry.metrics();
    res.type(deps.metrics.registry.contentType).send(body);
  });

  const openapi = buildOpenApiDocument(deps.config.publicUrl);
  router.get('/api/v1/openapi.json', guard('public'), (_req, res) => {
    res.json(openapi);
  });

  return router;
}
