import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CliError, notifyTestCommand } from '../../../src/cli/commands.js';
import { loadConfig } from '../../../src/config/config.js';
import { TestSmtpServer } from '../../support/smtp.js';

const logger = pino({ level: 'silent' });

describe(notifyTestCommand.name, () => {
  const smtp = new TestSmtpServer();
  let smtpUrl: string;
  let dir: string;
  beforeAll(async () => {
    smtpUrl = await smtp.start();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'riskwatch-notify-test-'));
  });
  beforeEach(() => smtp.reset());
  afterAll(async () => {
    await smtp.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const config = (env: Record<string, string> = {}) =>
    loadConfig({ DATA_DIR: dir, SMTP_URL: smtpUrl, PUBLIC_URL: 'https://rw.example.gov.cn', ...env });
  const failure = async (run: () => Promise<unknown>) => {
    const error = await run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CliError);
    return error as CliError;
  };

  it('sends a sample digest through the relay, in English with --lang en', async () => {
    const out = await notifyTestCommand(config(), logger, { to: 'ops@example.gov.cn', lang: 'en' });
    expect(out).toMatch(
      /^sent a sample digest to ops@example\.gov\.cn through smtp:\/\/127\.0\.0\.1:\d+ \(<test\./,
    );
    const [mail] = await smtp.parsed();
    expect(mail?.rcpt).toEqual(['ops@example.gov.cn']);
    expect(mail?.subject).toBe(
      '[TEST] [Critical] 1 alert, 1 resolved · 测试农村商业银行 and 1 other institution',
    );
    expect(mail?.text).toContain('Value: 5.42% (threshold 5%, difference +0.42 percentage points)');
    expect(mail?.html).toContain('https://rw.example.gov.cn/api/v1/alerts/0');
  });

  it('defaults to Chinese', async () => {
    await notifyTestCommand(config(), logger, { to: 'ops@example.gov.cn' });
    expect((await smtp.parsed())[0]?.subject).toBe(
      '[TEST] [严重] 1 条预警，1 条解除 · 测试农村商业银行 等 2 家机构',
    );
  });

  it('reports the relay’s refusal precisely: permanent or temporary, with its code', async () => {
    smtp.reject = { code: 550, message: '5.7.1 Relaying denied' };
    const permanent = await failure(() => notifyTestCommand(config(), logger, { to: 'ops@example.gov.cn' }));
    expect(permanent.exitCode).toBe(1);
    expect(permanent.message).toMatch(
      /failed \(permanent: the relay refused it\): .*550 5\.7\.1 Relaying denied/,
    );
    smtp.reset();
    smtp.refuseNext = 1;
    const temporary = await failure(() => notifyTestCommand(config(), logger, { to: 'ops@example.gov.cn' }));
    expect(temporary.message).toMatch(/\(temporary: the relay may accept it later\): .*451/);
    const down = await failure(() =>
      notifyTestCommand(config({ SMTP_URL: 'smtp://127.0.0.1:1' }), logger, { to: 'ops@example.gov.cn' }),
    );
    expect(down.message).toMatch(/temporary.*ECONNREFUSED/);
  });

  it('checks its arguments, and writes an .eml file without a relay', async () => {
    expect((await failure(() => notifyTestCommand(config(), logger, {}))).exitCode).toBe(2);
    expect((await failure(() => notifyTestCommand(config(), logger, { to: 'nobody' }))).message).toMatch(
      /not an e-mail address/,
    );
    expect(
      (await failure(() => notifyTestCommand(config(), logger, { to: 'a@example.gov.cn', lang: 'fr' })))
        .message,
    ).toMatch(/--lang must be one of zh, en/);
    const eml = loadConfig({ DATA_DIR: dir });
    expect(await notifyTestCommand(eml, logger, { to: 'a@example.gov.cn' })).toMatch(
      /^no SMTP_URL: wrote a sample digest/,
    );
    expect(fs.readdirSync(eml.outboxDir).filter((f) => f.endsWith('.eml'))).toHaveLength(1);
  });
});
