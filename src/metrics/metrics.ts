import { type Kysely, sql } from 'kysely';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { SILENCE_STATES } from '../alerts/silence.js';
import { countSilences } from '../alerts/silence.repository.js';
import type { Database } from '../db/schema.js';
import { waitingItems } from '../notify/digest.flush.js';
import { outboxStats } from '../notify/outbox.stats.js';
import type { RuleHealth } from '../rules/evaluate.js';
import { currentValues } from './metric-values.query.js';

/** What the metrics read of the rules in force (the `RulesRuntime`), at scrape time. */
export interface RulesState {
  current(): { readonly hash: string; readonly loadedAt: Date };
  /** Set while the latest reload failed, cleared by a good one. */
  lastError(): unknown;
}

/** Outcomes of a rules reload, as the `result` label of `riskwatch_rules_reloads_total` names them. */
export const RELOAD_RESULTS = ['success', 'failure'] as const;
export type ReloadResult = (typeof RELOAD_RESULTS)[number];

/**
 * Every Prometheus metric of the service, on its own registry (never the global one).
 * Values that live in the database (latest observations, alert counts, outbox depth) are read at
 * scrape time, so every replica reports the same truth and nothing is cached between scrapes.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly submissions: Counter<'result'>;
  readonly validationErrors: Counter<'code'>;
  readonly evaluationDuration: Histogram;
  readonly evaluations: Counter<'result'>;
  readonly lastEvaluationSuccess: Gauge;
  readonly notifications: Counter<'route' | 'outcome' | 'reason'>;
  readonly rulesReloads: Counter<'result'>;

  constructor(db: Kysely<Database>, version: string, unitOf: (metric: string) => string, rules: RulesState) {
    const registry = this.registry;
    collectDefaultMetrics({ register: registry });
    new Gauge({
      name: 'riskwatch_build_info',
      help: 'Build information; always 1.',
      labelNames: ['version'],
      registers: [registry],
    }).set({ version }, 1);

    this.submissions = new Counter({
      name: 'riskwatch_submissions_total',
      help: 'Uploads by result (accepted or rejected).',
      labelNames: ['result'],
      registers: [registry],
    });
    for (const result of ['accepted', 'rejected']) this.submissions.inc({ result }, 0);
    this.validationErrors = new Counter({
      name: 'riskwatch_validation_errors_total',
      help: 'Validation problems found in rejected uploads, by error code.',
      labelNames: ['code'],
      registers: [registry],
    });
    this.evaluationDuration = new Histogram({
      name: 'riskwatch_rule_evaluation_duration_seconds',
      help: 'Time to evaluate the rules for one batch of institutions.',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    });
    this.evaluations = new Counter({
      name: 'riskwatch_rule_evaluations_total',
      help: 'Rule evaluations by result (ok or error), one per rule per batch.',
      labelNames: ['result'],
      registers: [registry],
    });
    for (const result of ['ok', 'error']) this.evaluations.inc({ result }, 0);
    this.lastEvaluationSuccess = new Gauge({
      name: 'riskwatch_rule_last_success_timestamp_seconds',
      help: 'Unix time of the last evaluation in which every rule succeeded.',
      registers: [registry],
    });
    this.notifications = new Counter({
      name: 'riskwatch_notifications_total',
      help: 'Notification attempts by route, outcome (sent, retry, failed) and reason (none, partial, transient, rejected, max_attempts, invalid_payload, render_error).',
      labelNames: ['route', 'outcome', 'reason'],
      registers: [registry],
    });

    // The rules folder in force, modelled on Prometheus's own prometheus_config_last_reload_* metrics.
    // Read from the runtime at scrape time, so the initial load counts as the first successful one.
    this.rulesReloads = new Counter({
      name: 'riskwatch_rules_reloads_total',
      help: 'Reloads of the rules folder (SIGHUP or POST /api/v1/rules/reload) by result; a failed one keeps the previous rules.',
      labelNames: ['result'],
      registers: [registry],
    });
    for (const result of RELOAD_RESULTS) this.rulesReloads.inc({ result }, 0);
    new Gauge({
      name: 'riskwatch_rules_loaded_info',
      help: 'The rule set in force, by the sha256 of its rule files (as GET /api/v1/rules shows); always 1.',
      labelNames: ['hash'],
      registers: [registry],
      collect() {
        this.reset();
        this.set({ hash: rules.current().hash }, 1);
      },
    });
    new Gauge({
      name: 'riskwatch_rules_last_reload_successful',
      help: 'Whether the last load of the rules folder succeeded (1) or failed and left the previous rules in force (0).',
      registers: [registry],
      collect() {
        this.set(rules.lastError() === undefined ? 1 : 0);
      },
    });
    new Gauge({
      name: 'riskwatch_rules_last_reload_success_timestamp_seconds',
      help: 'Unix time the rules in force were loaded (at start or by the last successful reload).',
      registers: [registry],
      collect() {
        this.set(rules.current().loadedAt.getTime() / 1000);
      },
    });

    new Gauge({
      name: 'riskwatch_institution_metric_value',
      help: 'Latest reported or derived value per institution and metric, in the unit the catalog names (percent as published, e.g. 6.2 for 6.2%).',
      labelNames: ['institution', 'institution_type', 'county', 'metric', 'unit'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const v of await currentValues(db)) {
          this.set(
            {
              institution: v.institution,
              institution_type: v.type,
              county: v.county,
              metric: v.metric,
              unit: unitOf(v.metric),
            },
            v.value,
          );
        }
      },
    });
    new Gauge({
      name: 'riskwatch_alerts_firing',
      help: 'Firing alerts by severity, rule, institution type and county.',
      labelNames: ['severity', 'rule', 'institution_type', 'county'],
      registers: [registry],
      async collect() {
        this.reset();
        const rows = await db
          .selectFrom('alerts as a')
          .leftJoin('institutions as i', 'i.code', 'a.institution_code')
          .select(({ fn }) => [
            'a.severity',
            'a.rule_id',
            'i.type',
            'i.county',
            fn.countAll<number>().as('n'),
          ])
          .where('a.state', '=', 'firing')
          .groupBy(['a.severity', 'a.rule_id', 'i.type', 'i.county'])
          .execute();
        for (const r of rows)
          this.set(
            { severity: r.severity, rule: r.rule_id, institution_type: r.type ?? '', county: r.county ?? '' },
            Number(r.n),
          );
      },
    });
    new Gauge({
      name: 'riskwatch_alerts_pending',
      help: 'Pending alerts (breaching, not yet for long enough) by severity and rule.',
      labelNames: ['severity', 'rule'],
      registers: [registry],
      async collect() {
        this.reset();
        const rows = await db
          .selectFrom('alerts')
          .select(({ fn }) => ['severity', 'rule_id', fn.countAll<number>().as('n')])
          .where('state', '=', 'pending')
          .groupBy(['severity', 'rule_id'])
          .execute();
        for (const r of rows) this.set({ severity: r.severity, rule: r.rule_id }, Number(r.n));
      },
    });
    // Silences and suppressed notifications, as Alertmanager reports alertmanager_silences{state}.
    new Gauge({
      name: 'riskwatch_silences',
      help: 'Silences by state now: pending (not started), active, expired (ended or expired by hand).',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        const counts = await countSilences(db, new Date());
        for (const state of SILENCE_STATES) this.set({ state }, counts[state]);
      },
    });
    new Counter({
      name: 'riskwatch_alert_notifications_suppressed_total',
      help: 'Alert transitions recorded without an e-mail, by reason (silenced, inhibited; one held back by both counts in each).',
      labelNames: ['reason'],
      registers: [registry],
      async collect() {
        // Counted from the events, which are never deleted: every replica reports the same total.
        const row = await db
          .selectFrom('alert_events')
          .select((eb) => [
            eb.fn
              .countAll<number>()
              .filterWhere(sql`jsonb_array_length(suppressed->'silenced_by')`, '>', 0)
              .as('silenced'),
            eb.fn
              .countAll<number>()
              .filterWhere(sql`jsonb_array_length(suppressed->'inhibited_by')`, '>', 0)
              .as('inhibited'),
          ])
          .where('suppressed', 'is not', null)
          .executeTakeFirst();
        this.reset();
        this.inc({ reason: 'silenced' }, Number(row?.silenced ?? 0));
        this.inc({ reason: 'inhibited' }, Number(row?.inhibited ?? 0));
      },
    });
    new Gauge({
      name: 'riskwatch_outbox_pending',
      help: 'Notifications waiting to be sent.',
      registers: [registry],
      async collect() {
        const row = await db
          .selectFrom('notification_outbox')
          .select(({ fn }) => fn.countAll<number>().as('n'))
          .where('status', 'in', ['pending', 'sending'])
          .executeTakeFirst();
        this.set(Number(row?.n ?? 0));
      },
    });
    new Gauge({
      name: 'riskwatch_outbox_failed',
      help: 'Notifications given up for good (permanent refusal or too many attempts); GET /api/v1/notifications?state=failed lists them.',
      registers: [registry],
      async collect() {
        this.set((await outboxStats(db, new Date())).failed);
      },
    });
    new Gauge({
      name: 'riskwatch_notification_items_waiting',
      help: 'Alert changes waiting for their route group digest (group_wait).',
      registers: [registry],
      async collect() {
        this.set(await waitingItems(db));
      },
    });
    new Gauge({
      name: 'riskwatch_outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest notification waiting to be sent; 0 when none waits.',
      registers: [registry],
      async collect() {
        const row = await db
          .selectFrom('notification_outbox')
          .select(({ fn }) => fn.min('created_at').as('oldest'))
          .where('status', 'in', ['pending', 'sending'])
          .executeTakeFirst();
        const oldest = row?.oldest ? new Date(row.oldest as Date).getTime() : undefined;
        this.set(oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000));
      },
    });
  }

  /** Counts one reload of the rules folder. */
  recordRulesReload(result: ReloadResult): void {
    this.rulesReloads.inc({ result });
  }

  /** Records one evaluation's duration and rule health. */
  recordEvaluation(durationSeconds: number, health: readonly RuleHealth[], now: Date): void {
    this.evaluationDuration.observe(durationSeconds);
    const failed = health.filter((h) => !h.ok).length;
    this.evaluations.inc({ result: 'ok' }, health.length - failed);
    if (failed > 0) this.evaluations.inc({ result: 'error' }, failed);
    else this.lastEvaluationSuccess.set(now.getTime() / 1000);
  }
}
