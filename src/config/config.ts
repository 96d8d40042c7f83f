import path from 'node:path';
import { z } from 'zod';

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const urlOf = (protocols: readonly string[]) =>
  optionalString.refine(
    (v) => v === undefined || protocols.some((p) => v.startsWith(`${p}:`)),
    `must be a URL starting with ${protocols.map((p) => `${p}:`).join(' or ')}`,
  );

const tokenOf = optionalString.refine((v) => v === undefined || v.length >= 1, 'must not be empty when set');

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: urlOf(['postgres', 'postgresql']),
  SMTP_URL: urlOf(['smtp', 'smtps']),
  MAIL_FROM: z.string().default('RiskWatch <riskwatch@localhost>'),
  ADMIN_TOKEN: tokenOf,
  METRICS_TOKEN: tokenOf,
  RULES_DIR: z.string().min(1).default('./rules'),
  TIME_ZONE: z
    .string()
    .default('Asia/Shanghai')
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'must be an IANA time zone such as Asia/Shanghai'),
  PUBLIC_URL: z.string().url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MAX_UPLOAD_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024),
  MAX_UPLOAD_ROWS: z.coerce.number().int().positive().default(1_000_000),
  MAX_UPLOAD_COLUMNS: z.coerce.number().int().positive().max(16_384).default(1000),
  MAX_UPLOAD_VALUES: z.coerce.number().int().positive().default(1_500_000),
  EVALUATION_CRON: z.string().default('*/15 * * * *'),
  DISPATCH_CRON: z.string().default('*/10 * * * * *'),
  NOTIFY_SCHEDULE_CRON: z.string().default('* * * * *'),
  SCHEDULER: z.enum(['on', 'off']).default('on'),
});

/** Validated, immutable service configuration. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly smtpUrl: string | undefined;
  readonly mailFrom: string;
  readonly adminToken: string | undefined;
  readonly metricsToken: string | undefined;
  readonly rulesDir: string;
  readonly timeZone: string;
  readonly publicUrl: string;
  readonly logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  readonly maxUploadBytes: number;
  /**
   * What one upload may hold: rows (CSV records or sheet rows, header included), columns, and values
   * (non-empty metric cells), which an upload's memory is proportional to.
   */
  readonly uploadLimits: {
    readonly maxRows: number;
    readonly maxColumns: number;
    readonly maxValues: number;
  };
  readonly evaluationCron: string;
  readonly dispatchCron: string;
  /** How often reminders and monthly summaries are looked for (each route says when they are due). */
  readonly notifyScheduleCron: string;
  readonly schedulerEnabled: boolean;
  /** Where `.eml` files go when no SMTP server is configured. */
  readonly outboxDir: string;
}

/** Thrown when the environment is invalid; lists every bad variable at once. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates the service configuration from an environment map.
 * The only place that reads `process.env` (callers pass it in).
 * @throws ConfigError listing every invalid variable.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    dataDir,
    databaseUrl: e.DATABASE_URL,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    adminToken: e.ADMIN_TOKEN,
    metricsToken: e.METRICS_TOKEN,
    rulesDir: path.resolve(e.RULES_DIR),
    timeZone: e.TIME_ZONE,
    publicUrl: e.PUBLIC_URL ?? `http://localhost:${e.PORT}`,
    logLevel: e.LOG_LEVEL,
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    uploadLimits: Object.freeze({
      maxRows: e.MAX_UPLOAD_ROWS,
      maxColumns: e.MAX_UPLOAD_COLUMNS,
      maxValues: e.MAX_UPLOAD_VALUES,
    }),
    evaluationCron: e.EVALUATION_CRON,
    dispatchCron: e.DISPATCH_CRON,
    notifyScheduleCron: e.NOTIFY_SCHEDULE_CRON,
    schedulerEnabled: e.SCHEDULER === 'on',
    outboxDir: path.join(dataDir, 'outbox'),
  });
}
