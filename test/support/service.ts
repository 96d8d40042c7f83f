import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/config.js';
import { createApp } from '../../src/http/app.js';
import { openServices, type Services } from '../../src/service.js';
import { createTestDatabase, type TestDatabase } from './database.js';

/** A whole service on a test database, with its express app and a temporary data folder. */
export interface TestService {
  readonly services: Services;
  readonly app: Express;
  readonly db: TestDatabase;
  readonly dataDir: string;
  /** Files written to the `.eml` outbox so far. */
  outboxFiles(): string[];
  close(): Promise<void>;
}

export const ADMIN = 'test-admin-token';

/** Starts the service's parts (no listener, no scheduler) on a fresh migrated database. */
export async function createTestService(
  env: Record<string, string> = {},
  clock?: () => Date,
): Promise<TestService> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'riskwatch-test-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    ADMIN_TOKEN: ADMIN,
    SCHEDULER: 'off',
    RULES_DIR: 'rules',
    ...env,
  });
  const db = await createTestDatabase();
  const services = await openServices(config, pino({ level: 'silent' }), {
    database: db,
    ...(clock ? { clock } : {}),
  });
  return {
    services,
    app: createApp(services),
    db,
    dataDir,
    outboxFiles: () =>
      fs.existsSync(config.outboxDir)
        ? fs.readdirSync(config.outboxDir).filter((f) => f.endsWith('.eml'))
        : [],
    close: async () => {
      await services.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
