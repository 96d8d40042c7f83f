import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import {
  type ReplayAlertView,
  type ReplayReport,
  replayHistory,
  replayRequestSchema,
} from '../alerts/replay.service.js';
import type { Config } from '../config/config.js';
import { formatProblems } from '../config/yaml-file.js';
import { openDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrator.js';
import { loadRulesDir } from '../rules/rules.runtime.js';
import { CliError, describeAppError } from './commands.js';

export const REPLAY_FORMATS = ['text', 'json'] as const;

/** Options of `rules replay`, as parsed from the command line. */
export interface ReplayArgs {
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly rules?: string | undefined;
  readonly institution?: string | undefined;
  readonly format?: string | undefined;
}

const USAGE =
  'usage: rules replay --from YYYY-MM --to YYYY-MM [--rules DIR] [--institution CODE] [--format text|json]';

/**
 * `rules replay`: what the rules of `--rules DIR` (default: RULES_DIR) would have done, month by month,
 * over the stored history, as `POST /api/v1/rules/replay` answers for the rules in force. Only reads:
 * no alert, event, e-mail or audit entry comes of it. DIR is a whole rules folder, as `rules check` takes.
 */
export async function rulesReplayCommand(config: Config, logger: Logger, args: ReplayArgs): Promise<string> {
  const format = args.format ?? 'text';
  if (!(REPLAY_FORMATS as readonly string[]).includes(format))
    throw new CliError(`--format must be one of ${REPLAY_FORMATS.join(', ')}\n${USAGE}`, 2);
  if (args.from === undefined || args.to === undefined)
    throw new CliError(`${USAGE}\n  --from and --to are required`, 2);
  const parsed = replayRequestSchema.safeParse({
    from: args.from,
    to: args.to,
    ...(args.institution !== undefined ? { institutions: [args.institution] } : {}),
  });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  --${String(i.path[0] ?? '')}: ${i.message}`);
    throw new CliError([USAGE, ...lines].join('\n'), 2);
  }
  const dir = path.resolve(args.rules ?? config.rulesDir);
  const loaded = loadRulesDir(dir, new Date(), { timeZone: config.timeZone });
  if (!loaded.ok) throw new CliError(formatProblems(loaded.problems), 1);

  // The database only: the service's own rules folder plays no part when another one is replayed.
  const handle = await openDatabase({
    databaseUrl: config.databaseUrl,
    pgliteDir: path.join(config.dataDir, 'pg'),
  });
  try {
    await migrateToLatest(handle.db as unknown as Kysely<unknown>);
    const report = await replayHistory(handle.db, loaded.value, parsed.data).catch(describeAppError);
    logger.info({ rules: report.rules_hash, from: report.from, to: report.to }, 'rules replayed');
    return format === 'json' ? JSON.stringify(report, null, 2) : formatReplay(report, dir);
  } finally {
    await handle.close();
  }
}

/** A replay for a terminal: one line per transition, months without any shown as such. */
export function formatReplay(report: ReplayReport, dir: string): string {
  const out = [
    `Replay of the rules in ${dir} (hash ${report.rules_hash.slice(0, 12)}), ${report.from} to ${report.to}, ${report.institutions} institution(s), ${report.rules.length} rule(s)`,
  ];
  if (report.skipped_rules.length > 0)
    out.push(
      `Skipped: ${report.skipped_rules.map((s) => s.rule).join(', ')} (${report.skipped_rules[0]?.reason})`,
    );
  out.push(activeLines(`Active before ${report.from}`, report.initial));
  for (const step of report.timeline) {
    if (step.transitions.length === 0 && step.errors.length === 0) {
      out.push(`${step.period}  no change`);
      continue;
    }
    for (const t of step.transitions)
      out.push(`${step.period}  ${t.kind.padEnd(11)} ${describe(t)}${t.from ? ` (was ${t.from})` : ''}`);
    for (const e of step.errors) out.push(`${step.period}  rule error  ${e.rule}: ${e.error}`);
  }
  out.push(activeLines(`Active after ${report.to}`, report.final));
  const totals = Object.entries(report.totals).map(([kind, n]) => `${kind} ${n}`);
  out.push(`Transitions: ${totals.length > 0 ? totals.join(', ') : 'none'}`);
  return out.join('\n');
}

function activeLines(title: string, alerts: readonly ReplayAlertView[]): string {
  if (alerts.length === 0) return `${title}: none`;
  return [`${title}:`, ...alerts.map((a) => `  ${a.state.padEnd(8)} ${describe(a)}`)].join('\n');
}

function describe(a: ReplayAlertView): string {
  return `${a.severity.padEnd(8)} ${a.rule}  ${a.institution ?? '(region)'}  ${a.metric} ${a.value ?? '?'} (threshold ${a.threshold ?? '?'}), ${a.periods} period(s) since ${a.first_period}`;
}
