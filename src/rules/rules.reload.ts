import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { recordAudit } from '../audit/audit.repository.js';
import type { FileProblem } from '../config/yaml-file.js';
import type { Database } from '../db/schema.js';
import type { ServiceMetrics } from '../metrics/metrics.js';
import type { RulesRuntime } from './rules.runtime.js';

/** What a reload touches besides the runtime: the audit log, the metrics and the log. */
export interface ReloadDeps {
  readonly db: Kysely<Database>;
  readonly rules: RulesRuntime;
  readonly metrics: Pick<ServiceMetrics, 'recordRulesReload'>;
  readonly logger: Pick<Logger, 'info' | 'error'>;
  readonly clock: () => Date;
}

/** The result of one reload: the new hash, or every problem found while the previous rules stay. */
export type ReloadOutcome =
  | { readonly ok: true; readonly hash: string; readonly previous: string; readonly changed: boolean }
  | { readonly ok: false; readonly previous: string; readonly problems: readonly FileProblem[] };

/**
 * Re-reads the rules folder in this replica. Every trigger (SIGHUP, `POST /api/v1/rules/reload`) goes
 * through here, so they share one behaviour: the new rules go into force only when the whole folder is
 * valid, the result is counted in `riskwatch_rules_reloads_total`, logged (the new hash, or every
 * problem with its file and line) and audited as `rules.reload` by `actor`.
 * @throws when the audit entry cannot be written; the reload has been applied or refused by then.
 */
export async function reloadRules(deps: ReloadDeps, actor: string): Promise<ReloadOutcome> {
  const previous = deps.rules.current().hash;
  const result = deps.rules.reload(deps.clock());
  deps.metrics.recordRulesReload(result.ok ? 'success' : 'failure');
  const outcome: ReloadOutcome = result.ok
    ? { ok: true, hash: result.hash, previous, changed: result.hash !== previous }
    : { ok: false, previous, problems: result.problems };
  if (outcome.ok) {
    deps.logger.info(
      { actor, hash: outcome.hash, previous, changed: outcome.changed },
      outcome.changed ? 'rules reloaded: new rules in force' : 'rules reloaded: unchanged',
    );
  } else {
    deps.logger.error(
      { actor, hash: previous, problems: outcome.problems },
      `rules reload failed with ${outcome.problems.length} problem(s); the previous rules stay in force`,
    );
  }
  await recordAudit(deps.db, {
    actor,
    action: 'rules.reload',
    details: outcome.ok
      ? { ok: true, from: previous, to: outcome.hash }
      : { ok: false, problems: outcome.problems.length },
  });
  return outcome;
}
