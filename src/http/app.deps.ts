import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Database } from '../db/schema.js';
import type { ServiceMetrics } from '../metrics/metrics.js';
import type { RulesRuntime } from '../rules/rules.runtime.js';

/** Everything the HTTP layer uses; built by the composition root, replaced by fakes nowhere. */
export interface AppDeps {
  readonly config: Config;
  readonly db: Kysely<Database>;
  readonly rules: RulesRuntime;
  readonly metrics: ServiceMetrics;
  readonly logger: Logger;
  /** The only clock the request path reads. */
  readonly clock: () => Date;
  /** Called after a write that may have queued notifications, to send them without waiting for the next tick. */
  readonly notificationsQueued?: () => void;
}
