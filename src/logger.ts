import { type Logger, pino } from 'pino';

/**
 * The service logger: JSON lines on stdout. Secret-bearing fields are redacted wherever they
 * appear, as a second line of defence behind never logging them at all.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'riskwatch' },
    redact: {
      paths: [
        'token',
        '*.token',
        'authorization',
        '*.authorization',
        'req.headers.authorization',
        'config.adminToken',
        'config.metricsToken',
        'smtpUrl',
        '*.smtpUrl',
      ],
      censor: '[redacted]',
    },
  });
}
