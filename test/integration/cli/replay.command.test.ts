import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError, importCommand, institutionsImportCommand } from '../../../src/cli/commands.js';
import { rulesReplayCommand } from '../../../src/cli/replay.command.js';
import { type Config, loadConfig } from '../../../src/config/config.js';
import { openDatabase } from '../../../src/db/database.js';

/** `rules replay` as the operator runs it, on the embedded database under a temporary DATA_DIR. */
describe('rules replay', () => {
  const logger = pino({ level: 'silent' });
  let dir: string;
  let config: Config;
  let stricter: string;
  const write = (name: string, content: string) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, content);
    return p;
  };
  const failure = async (run: () => unknown): Promise<CliError> => {
    try {
      await run();
    } catch (error) {
      expect(error).toBeInstanceOf(CliError);
      return error as CliError;
    }
    throw new Error('the command succeeded');
  };
  /** Rows of the tables a replay must not touch. */
  const written = async () => {
    const handle = await openDatabase({ pgliteDir: path.join(config.dataDir, 'pg') });
    try {
      const counts = [];
      for (const table of ['alerts', 'alert_events', 'notification_outbox', 'audit_log'] as const)
        counts.push(await handle.db.selectFrom(table).selectAll().orderBy('id').execute());
      return counts;
    } finally {
      await handle.close();
    }
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'riskwatch-replay-'));
    config = loadConfig({
      DATA_DIR: path.join(dir, 'data'),
      RULES_DIR: 'rules',
      SCHEDULER: 'off',
      LOG_LEVEL: 'silent',
    });
    await institutionsImportCommand(
      config,
      logger,
      write(
        'institutions.csv',
        'code,name,type,county\nB1,一号农商行,rural_commercial_bank,晋江市\nB2,二号农商行,rural_commercial_bank,南安市\n',
      ),
    );
    // B1 crosses the 4% warning level in March and is back under it in May.
    const rows = [3.2, 3.7, 4.3, 4.6, 3.9, 3.1].flatMap((v, i) => [
      `B1,2024-0${i + 1},npl_ratio,${v}`,
      `B2,2024-0${i + 1},npl_ratio,2`,
    ]);
    await importCommand(
      config,
      logger,
      write('history.csv', ['institution,period,metric,value', ...rows].join('\n')),
    );
    // The same pack with the NPL warning level at 3.5% instead of 4%.
    stricter = path.join(dir, 'stricter-rules');
    fs.cpSync('rules', stricter, { recursive: true });
    const bank = path.join(stricter, 'bank.rules.yaml');
    const text = fs.readFileSync(bank, 'utf8');
    expect(text).toContain('{ severity: warning, threshold: 4 }');
    fs.writeFileSync(
      bank,
      text.replace('{ severity: warning, threshold: 4 }', '{ severity: warning, threshold: 3.5 }'),
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('shows the rule firing in the month it was crossed and resolving when it recovered, writing nothing', async () => {
    const before = await written();
    const text = await rulesReplayCommand(config, logger, { from: '2024-01', to: '2024-06' });
    expect(text).toMatch(
      /^Replay of the rules in .*rules \(hash [0-9a-f]{12}\), 2024-01 to 2024-06, 2 institution\(s\)/,
    );
    const lines = text.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        'Active before 2024-01: none',
        '2024-01  no change',
        '2024-02  no change',
        expect.stringMatching(
          /^2024-03 {2}firing {6}warning {2}bank_npl_ratio {2}B1 {2}npl_ratio 4\.3 \(threshold 4\)/,
        ),
        expect.stringMatching(/^2024-04 {2}updated .* npl_ratio 4\.6 .*\(was firing\)$/),
        expect.stringMatching(/^2024-05 {2}resolved .* B1 {2}npl_ratio 3\.9 /),
        '2024-06  no change',
        'Active after 2024-06: none',
        'Transitions: firing 1, updated 1, resolved 1',
      ]),
    );
    expect(await written()).toEqual(before);
  });

  it('fires a month earlier under the stricter folder given with --rules, one institution, as JSON', async () => {
    const report = JSON.parse(
      await rulesReplayCommand(config, logger, {
        from: '2024-01',
        to: '2024-06',
        rules: stricter,
        institution: 'B1',
        format: 'json',
      }),
    );
    expect(report.institutions).toBe(1);
    const firing = report.timeline.flatMap((s: { period: string; transitions: { kind: string }[] }) =>
      s.transitions.filter((t) => t.kind === 'firing').map(() => s.period),
    );
    expect(firing).toEqual(['2024-02']);
    const shipped = JSON.parse(
      await rulesReplayCommand(config, logger, { from: '2024-01', to: '2024-06', format: 'json' }),
    );
    expect(report.rules_hash).not.toBe(shipped.rules_hash);
  });

  it('names what is wrong: usage, a broken folder, limits, unknown institutions', async () => {
    expect((await failure(() => rulesReplayCommand(config, logger, { from: '2024-01' }))).exitCode).toBe(2);
    const format = await failure(() =>
      rulesReplayCommand(config, logger, { from: '2024-01', to: '2024-02', format: 'xml' }),
    );
    expect(format.message).toContain('--format must be one of text, json');
    const broken = path.join(dir, 'broken-rules');
    fs.cpSync('rules', broken, { recursive: true });
    fs.writeFileSync(path.join(broken, 'bank.rules.yaml'), 'groups: [');
    const folder = await failure(() =>
      rulesReplayCommand(config, logger, { from: '2024-01', to: '2024-02', rules: broken }),
    );
    expect(folder.message).toContain(path.join(broken, 'bank.rules.yaml'));
    const months = await failure(() =>
      rulesReplayCommand(config, logger, { from: '2020-01', to: '2024-01' }),
    );
    expect(months.message).toContain('a replay covers at most 36');
    const unknown = await failure(() =>
      rulesReplayCommand(config, logger, { from: '2024-01', to: '2024-01', institution: 'NOPE' }),
    );
    expect(unknown.message).toContain('no institution NOPE is registered');
  });
});
