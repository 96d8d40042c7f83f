import express, { type Express } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type { AppDeps } from './app.deps.js';
import { AppError } from './app-error.js';
import { authorize } from './auth.middleware.js';
import { errorHandler } from './error.handler.js';
import { alertsRoutes } from './routes/alerts.routes.js';
import { catalogRoutes } from './routes/catalog.routes.js';
import { institutionsRoutes } from './routes/institutions.routes.js';
import { keysRoutes } from './routes/keys.routes.js';
import { notificationsRoutes } from './routes/notifications.routes.js';
import { opsRoutes } from './routes/ops.routes.js';
import { replayRoutes } from './routes/replay.routes.js';
import { silencesRoutes } from './routes/silences.routes.js';
import { submissionsRoutes } from './routes/submissions.routes.js';
import { templatesRoutes } from './routes/templates.routes.js';

/** Builds the express application; the caller decides where it listens. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(helmet());
  app.use(
    pinoHttp({
      logger: deps.logger,
      // Keys are secrets: the header never reaches a log line.
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' },
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    }),
  );
  app.use(express.json({ limit: '5mb' }));

  const guard = authorize(deps.db, deps.config.adminToken);
  app.use(opsRoutes(deps, guard));
  const api = express.Router();
  api.use(institutionsRoutes(deps, guard));
  api.use(keysRoutes(deps, guard));
  api.use(submissionsRoutes(deps, guard));
  api.use(alertsRoutes(deps, guard));
  api.use(silencesRoutes(deps, guard));
  api.use(notificationsRoutes(deps, guard));
  api.use(catalogRoutes(deps, guard));
  api.use(replayRoutes(deps, guard));
  api.use(templatesRoutes(deps, guard));
  app.use('/api/v1', api);
  app.use((req, _res, next) => next(AppError.notFound(`Route ${req.method} ${req.path}`)));
  app.use(errorHandler(deps.logger));
  return app;
}
