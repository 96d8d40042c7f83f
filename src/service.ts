import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { evaluateEveryInstitution, pruneEvaluationRuns } from './alerts/evaluation.full.js';
import type { Config } from './config/config.js';
import { formatProblems } from './config/yaml-file.js';
import { type DatabaseHandle, openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrator.js';
import type { Database } from './db/schema.js';
import type { AppDeps } from './http/app.deps.js';
import { ServiceMetrics } from './metrics/metrics.js';
import { DispatchRunner } from './notify/dispatch.runner.js';
import { createMailer } from './notify/mail.transport.js';
import { OUTCOME_REASONS } from './notify/notification.outcomes.js';
import { queueReminders } from './notify/reminder.job.js';
import { firingAlertsSelector, type ReminderSelector } from './notify/reminder.repository.js';
import { RECEIPT_ROUTE } from './notify/routes.js';
import { queueMonthlySummaries } from './notify/summary.job.js';
import { loadRulesDir, RulesRuntime } from './rules/rules.runtime.js';
import { Scheduler } from './scheduler/scheduler.js';
import { SlotClaimCoordinator } from './scheduler/slot-claim.coordinator.js';
import { VERSION } from './version.js';

/** The parts of a running service, for the CLI, the demo and the tests. */
export interface Services extends AppDeps {
  readonly handle: DatabaseHandle;
  readonly dispatcher: DispatchRunner;
  readonly mailer: ReturnType<typeof createMailer>;
  close(): Promise<void>;
}

/**
 * Opens the database, applies migrations and loads the rules folder, failing loudly on any problem.
 * Everything the HTTP app, the scheduler and the CLI share is built here and nowhere else.
 */
export async function openServices(
  config: Config,
  logger: Logger,
  options: { clock?: () => Date; database?: DatabaseHandle } = {},
): Promise<Services> {
  const clock = options.clock ?? (() => new Date());
  const loaded = loadRulesDir(config.rulesDir, clock(), { timeZone: config.timeZone });
  if (!loaded.ok)
    throw new Error(`The rules folder ${config.rulesDir} has problems:\n${formatProblems(loaded.problems)}`);
  const handle =
    options.database ??
    (await openDatabase({ databaseUrl: config.databaseUrl, pgliteDir: path.join(config.dataDir, 'pg') }));
  try {
    const applied = await migrateToLatest(handle.db as unknown as Kysely<unknown>);
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
  } catch (error) {
    await handle.close();
    throw error;
  }
  const db: Kysely<Database> = handle.db;
  const rules = new RulesRuntime(config.rulesDir, loaded.value);
  const metrics = new ServiceMetrics(
    db,
    VERSION,
    (metric) => rules.current().catalog.metrics.get(metric)?.unit ?? '',
    rules,
  );
  // Every route × outcome × reason exists from the start, so that increase() sees the first failure.
  for (const route of [...loaded.value.routes.map((r) => r.name), RECEIPT_ROUTE])
    for (const [outcome, reason] of OUTCOME_REASONS) metrics.notifications.inc({ route, outcome, reason }, 0);
  const mailer = createMailer({
    smtpUrl: config.smtpUrl,
    outboxDir: config.outboxDir,
    from: config.mailFrom,
  });
  const dispatcher = new DispatchRunner({
    db,
    mailer,
    logger,
    clock,
    options: {
      publicUrl: config.publicUrl,
      timeZone: config.timeZone,
      worker: `${process.pid}-${randomUUID().slice(0, 8)}`,
    },
    onResult: (route, outcome, reason) =>
      metrics.notifications.inc({ route, outcome, reason: reason ?? 'none' }),
  });
  return {
    config,
    db,
    rules,
    metrics,
    logger,
    clock,
    handle,
    dispatcher,
    mailer,
    notificationsQueued: () => void dispatcher.kick(),
    close: async () => {
      await dispatcher.idle();
      await mailer.close();
      await handle.close();
    },
  };
}

/** The scheduled jobs: periodic re-evaluation, notification grouping and dispatch, reminders and summaries, housekeeping. */
export function createScheduler(services: Services): Scheduler {
  const { db, config, rules, metrics, logger, dispatcher } = services;
  const coordinator = new SlotClaimCoordinator(db, `${process.pid}`);
  return new Scheduler(
    [
      {
        name: 'evaluate',
        cron: config.evaluationCron,
        run: async (now) => {
          const done = await evaluateEveryInstitution(db, () => rules.current(), now, {
            evaluated: (s, h) => metrics.recordEvaluation(s, h, now),
          });
          logger.info({ job: 'evaluate', ...done }, 'scheduled evaluation finished');
        },
      },
      // Groups whose group_wait has passed become digests, then the outbox is sent (dispatch.runner.ts).
      { name: 'dispatch', cron: config.dispatchCron, run: () => dispatcher.kick() },
      {
        name: 'notify-schedules',
        cron: config.notifyScheduleCron,
        run: async (now) => {
          const queued = await queueScheduledNotifications(services, now);
          if (queued > 0) await dispatcher.kick();
        },
      },
      {
        name: 'prune-job-runs',
        cron: '17 3 * * *',
        run: async (now) => {
          await coordinator.prune(new Date(now.getTime() - 7 * 86_400_000));
          // Scheduled runs are kept for 90 days: when and how (window or deep) the alerts were judged.
          await pruneEvaluationRuns(db, new Date(now.getTime() - 90 * 86_400_000));
        },
      },
    ],
    { timeZone: config.timeZone, coordinator, logger },
  );
}

/**
 * Queues the reminders and monthly summaries now due on every route (each once per slot, whichever
 * replica gets there first).
 * @returns how many were queued.
 */
export async function queueScheduledNotifications(
  services: Pick<Services, 'db' | 'rules' | 'config'>,
  now: Date,
  select: ReminderSelector = firingAlertsSelector(services.db),
): Promise<number> {
  const { db, rules, config } = services;
  const { routes, calendar, catalog } = rules.current();
  const timeZone = config.timeZone;
  const reminders = await queueReminders({ db, routes, calendar, catalog, timeZone, select }, now);
  const summaries = await queueMonthlySummaries({ db, routes, calendar, timeZone }, now);
  return reminders + summaries;
}

/** Listens on the configured port; resolves with the server once it accepts connections. */
export async function listen(services: Services): Promise<Server> {
  // Loaded here, not at the top: commands that open the services without serving skip the HTTP stack.
  const { createApp } = await import('./http/app.js');
  const app = createApp(services);
  return new Promise((resolve, reject) => {
    const server = app.listen(services.config.port, services.config.host, () => resolve(server));
    server.once('error', reject);
  });
}
