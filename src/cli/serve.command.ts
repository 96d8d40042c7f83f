import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { sizeYoungGeneration } from '../heap.js';
import { reloadRules } from '../rules/rules.reload.js';
import { createScheduler, listen, openServices, type Services } from '../service.js';
import { bootstrapAdminKey } from './bootstrap-admin.js';

/**
 * Runs the service until SIGINT or SIGTERM, then drains: stops taking connections, lets requests
 * and jobs under way finish, and closes the database last. SIGHUP reloads the rules folder.
 */
export async function serve(
  config: Config,
  logger: Logger,
  before?: (services: Services) => Promise<void>,
): Promise<void> {
  // SIGHUP re-reads rules/, as Prometheus does, exactly as POST /api/v1/rules/reload does: a folder with
  // problems keeps the old rules running; the result is logged, counted and audited. Listened for before
  // anything else, because Node's default for SIGHUP is to exit: a reload sent while the service starts
  // (the folder is being read then anyway) or drains must not kill it.
  let reloadable: Services | undefined;
  process.on('SIGHUP', () => {
    if (!reloadable) {
      logger.warn('SIGHUP ignored: the service is starting or stopping');
      return;
    }
    reloadRules(reloadable, 'signal:SIGHUP').catch((error: unknown) =>
      logger.error({ err: error }, 'rules reload could not be audited'),
    );
  });

  // Before the first evaluation: see SEMI_SPACE_MB.
  sizeYoungGeneration();
  const services = await openServices(config, logger);
  if (before) await before(services);
  if (!config.adminToken) {
    const token = await bootstrapAdminKey(services.db);
    // Printed once to the terminal, deliberately outside the log stream: logs never carry secrets.
    if (token)
      process.stdout.write(
        `\n  First start: an admin API key was created. It is shown only this once:\n\n    ${token}\n\n  Use it as "Authorization: Bearer <key>". Set ADMIN_TOKEN to manage keys another way.\n\n`,
      );
  }
  const server = await listen(services);
  const scheduler = config.schedulerEnabled ? createScheduler(services) : undefined;
  scheduler?.start();
  reloadable = services;
  const address = server.address();
  logger.info(
    {
      port: typeof address === 'object' && address ? address.port : config.port,
      database: services.handle.engine,
      smtp: config.smtpUrl ? 'smtp' : `eml files in ${config.outboxDir}`,
      rules: services.rules.current().hash.slice(0, 12),
    },
    'RiskWatch is listening',
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    reloadable = undefined;
    logger.info({ signal }, 'draining');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await scheduler?.stop();
    await closed;
    await services.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
