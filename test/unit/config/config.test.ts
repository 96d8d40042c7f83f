import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/config.js';

describe(loadConfig.name, () => {
  it('starts with no variable set, on the embedded database and the .eml outbox', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      databaseUrl: undefined,
      smtpUrl: undefined,
      timeZone: 'Asia/Shanghai',
      schedulerEnabled: true,
    });
    expect(config.dataDir).toBe(path.resolve('./data'));
    expect(config.outboxDir).toBe(path.join(path.resolve('./data'), 'outbox'));
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', SMTP_URL: ' ', ADMIN_TOKEN: '' })).toMatchObject({
      databaseUrl: undefined,
      smtpUrl: undefined,
      adminToken: undefined,
    });
  });

  it('reports every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        SMTP_URL: 'http://mail',
        TIME_ZONE: 'Mars/Olympus',
        LOG_LEVEL: 'loud',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.map((p) => p.split(':')[0]);
    expect(problems.sort()).toEqual(['DATABASE_URL', 'LOG_LEVEL', 'PORT', 'SMTP_URL', 'TIME_ZONE']);
  });
});
