import { type RequestHandler, Router } from 'express';
import { listNotifications } from '../../notify/outbox.query.js';
import { notificationListQuery } from '../api.schemas.js';
import type { AppDeps } from '../app.deps.js';
import type { Access } from '../auth.middleware.js';
import { parseQuery } from '../validate.js';

/**
 * The notification outbox, for operators: what was sent, what waits, what failed for good and why
 * (`?state=failed`), and which deliveries some recipients refused (`?state=partial`).
 */
export function notificationsRoutes(deps: AppDeps, guard: (access: Access) => RequestHandler): Router {
  const router = Router();
  router.get('/notifications', guard(['admin', 'supervisor']), async (req, res) => {
    const query = parseQuery(notificationListQuery, req.query);
    res.json({ notifications: await listNotifications(deps.db, query) });
  });
  return router;
}
