import { type RequestHandler, Router } from 'express';
import { replayHistory } from '../../alerts/replay.service.js';
import { replayBody } from '../api.schemas.js';
import type { AppDeps } from '../app.deps.js';
import type { Access } from '../auth.middleware.js';
import { parseBody } from '../validate.js';

/**
 * What the rules in force would have done over stored history. A read: nothing is written or sent,
 * so, like every read, it is not audited (the request log names the caller).
 */
export function replayRoutes(deps: AppDeps, guard: (access: Access) => RequestHandler): Router {
  const router = Router();

  router.post('/rules/replay', guard(['admin', 'supervisor']), async (req, res) => {
    const request = parseBody(replayBody, req.body);
    res.json(await replayHistory(deps.db, deps.rules.current(), request));
  });

  return router;
}
