import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenPrefix } from '../../../src/auth/api-key.js';
import {
  CliError,
  importCommand,
  institutionsImportCommand,
  keysCreateCommand,
  keysListCommand,
  keysRevokeCommand,
  migrateCommand,
  rulesCheckCommand,
  rulesTestCommand,
} from '../../../src/cli/commands.js';
import { type Config, loadConfig } from '../../../src/config/config.js';
import { demoCreditCode } from '../../../src/demo/demo.credit-code.js';

/**
 * The CLI commands as functions, each opening the embedded database under DATA_DIR the way
 * `npm run cli -- …` does (PGlite in a temporary folder, whatever TEST_DATABASE_URL says).
 */
describe('CLI commands', () => {
  const logger = pino({ level: 'silent' });
  let dir: string;
  let config: Config;
  const file = (name: string, content: string) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, content);
    return p;
  };
  /** Runs a command expected to fail and returns its CliError. */
  const failure = async (run: () => unknown): Promise<CliError> => {
    try {
      await run();
    } catch (error) {
      expect(error).toBeInstanceOf(CliError);
      return error as CliError;
    }
    throw new Error('the command succeeded');
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'riskwatch-cli-'));
    config = loadConfig({
      DATA_DIR: path.join(dir, 'data'),
      RULES_DIR: 'rules',
      SCHEDULER: 'off',
      LOG_LEVEL: 'silent',
    });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('migrate applies the migrations, then finds the database up to date', async () => {
    expect(await migrateCommand(config)).toMatch(/^applied: \S+/);
    expect(fs.existsSync(path.join(config.dataDir, 'pg'))).toBe(true);
    expect(await migrateCommand(config)).toBe('the database is up to date');
  });

  it('rules check passes on the shipped rules and lists every problem of a broken copy with file:line', async () => {
    expect(rulesCheckCommand('rules')).toMatch(
      /^OK: \d+ rules in \d+ files, \d+ routes, \d+ inhibit rules, \d+ metrics/,
    );

    const copy = path.join(dir, 'rules-copy');
    fs.cpSync('rules', copy, { recursive: true });
    fs.writeFileSync(
      path.join(copy, 'broken.rules.yaml'),
      [
        'groups:',
        '  - name: broken',
        '    rules:',
        '      - id: broken_metric',
        '        metric: no_such_metric',
        '        types: [rural_commercial_bank]',
        '        op: ">"',
        '        levels: [{ severity: critical, threshold: 5 }]',
        '        for: 1',
        '        source: test',
        '        summary: { zh: "坏", en: "bad" }',
        '      - id: broken_op',
        '        metric: npl_ratio',
        '        types: [rural_commercial_bank]',
        '        op: "~"',
        '        levels: [{ severity: critical, threshold: 5 }]',
        '        for: 1',
        '        source: test',
        '        summary: { zh: "坏", en: "bad" }',
        '',
      ].join('\n'),
    );
    const error = await failure(() => rulesCheckCommand(copy));
    expect(error.exitCode).toBe(1);
    const lines = error.message.split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(line).toMatch(/broken\.rules\.yaml:\d+: /);
    expect(error.message).toMatch(/broken\.rules\.yaml:5: groups\[0\]\.rules\[0\]\.metric: .*no_such_metric/);
    expect(error.message).toMatch(/broken\.rules\.yaml:15: groups\[0\]\.rules\[1\]\.op: /);
  });

  it('rules check takes files as well as folders: rule files together, the catalog, routes and rule tests', async () => {
    expect(
      rulesCheckCommand(
        [
          'rules/bank.rules.yaml',
          'rules/guarantee.rules.yaml',
          'rules/catalog.yaml',
          'rules/tests/bank.test.yaml',
        ],
        'rules',
      ).split('\n'),
    ).toEqual([
      'OK: rules/catalog.yaml: 10 types, 97 metrics',
      'OK: rules/tests/bank.test.yaml: 37 tests',
      'OK: 33 rules in 2 files',
    ]);
    // A rule file outside the rules folder is checked against RULES_DIR's catalog, ids across all files.
    const copy = file(
      'copy.rules.yaml',
      fs
        .readFileSync('rules/guarantee.rules.yaml', 'utf8')
        .replace('metric: guarantee_leverage', 'metric: leverage'),
    );
    const error = await failure(() => rulesCheckCommand(['rules/guarantee.rules.yaml', copy], 'rules'));
    expect(error.exitCode).toBe(1);
    const duplicate = (line: number, where: string, id: string) =>
      `${copy}:${line}: ${where}.id: duplicate rule id ${id}, first defined at rules/guarantee.rules.yaml:${line}`;
    expect(error.message.split('\n')).toEqual([
      duplicate(10, 'groups[0].rules[0]', 'guarantee_leverage'),
      `${copy}:11: groups[0].rules[0].metric: unknown metric leverage`,
      duplicate(33, 'groups[0].rules[1]', 'guarantee_single_party_concentration'),
      duplicate(47, 'groups[0].rules[2]', 'guarantee_party_group_concentration'),
      duplicate(61, 'groups[0].rules[3]', 'guarantee_compensation_rate'),
      duplicate(82, 'groups[1].rules[0]', 'guarantee_leverage_target'),
      duplicate(99, 'groups[1].rules[1]', 'guarantee_small_micro_agri_share'),
      duplicate(118, 'groups[1].rules[2]', 'guarantee_average_fee_rate'),
      duplicate(137, 'groups[2].rules[0]', 'guarantee_monthly_filing_missing'),
    ]);
  });

  it('rules test exits 0 when every test passes, 1 with a diff when one fails, 2 for an invalid file', async () => {
    const passed = rulesTestCommand(['rules/tests']).split('\n');
    expect(passed[0]).toMatch(/^rules\/tests\/bank\.test\.yaml: \d+ tests passed$/);
    expect(passed.at(-1)).toMatch(/^OK: \d+ tests passed$/);

    const rules = path.relative(dir, path.resolve('rules/guarantee.rules.yaml'));
    const failing = file(
      'failing.test.yaml',
      [
        `rule_files: [${rules}]`,
        'institutions: [{ code: FG, name: 泉州融资担保, type: financing_guarantee, county: 丰泽区 }]',
        'tests:',
        '  - name: 9.5x is critical (it is not)',
        '    input_series: [{ institution: FG, metric: guarantee_leverage, start: 2024-01, values: "9.5" }]',
        '    alert_rule_test:',
        '      - at: 2024-01',
        '        rule: guarantee_leverage',
        '        exp_alerts: [{ institution: FG, state: firing, severity: critical }]',
        '',
      ].join('\n'),
    );
    const error = await failure(() => rulesTestCommand([failing]));
    expect(error.exitCode).toBe(1);
    expect(error.message.split('\n')).toEqual([
      `${failing}: 1 of 1 test failed`,
      `FAIL ${failing}:4:5: 9.5x is critical (it is not)`,
      `  at 2024-01 (evaluated 2024-02-16 00:00 Asia/Shanghai), check at ${failing}:7:9:`,
      '    exp_alerts (- expected, + got):',
      '      - { rule: guarantee_leverage, institution: FG, state: firing, severity: critical }',
      '      + { rule: guarantee_leverage, institution: FG, state: firing, severity: warning }',
      'FAILED: 1 of 1 tests failed',
    ]);

    const invalid = file('invalid.test.yaml', `rule_files: [${rules}]\ntests:\n  - name: no checks\n`);
    const both = await failure(() => rulesTestCommand([invalid, 'rules/tests/guarantee.test.yaml']));
    expect(both.exitCode).toBe(2);
    expect(both.message.split('\n')).toEqual([
      'rules/tests/guarantee.test.yaml: 11 tests passed',
      `${invalid}:3:5: tests[0].alert_rule_test: Invalid input: expected array, received undefined`,
      '11 tests passed',
    ]);
    expect((await failure(() => rulesTestCommand([path.join(dir, 'nothing.test.yaml')]))).exitCode).toBe(2);
  });

  it('institutions import reads a CSV and a JSON file, and reports a bad file by row and field', async () => {
    const creditCode = demoCreditCode('350582', 'CLI-B1');
    const csv = file(
      'institutions.csv',
      [
        'code,name,type,county,credit_code',
        `CLI-B1,晋江测试农商行,rural_commercial_bank,晋江市,${creditCode}`,
        'CLI-B2,南安测试村镇银行,village_bank,南安市,',
      ].join('\n'),
    );
    expect(await institutionsImportCommand(config, logger, csv)).toBe('institutions: 2 created, 0 updated');

    const json = file(
      'institutions.json',
      JSON.stringify([
        { code: 'CLI-B2', name: '南安测试村镇银行（更名）', type: 'village_bank', county: '南安市' },
        { code: 'CLI-G1', name: '石狮测试融资担保', type: 'financing_guarantee', county: '石狮市' },
      ]),
    );
    expect(await institutionsImportCommand(config, logger, json)).toBe('institutions: 1 created, 1 updated');

    const bad = file(
      'bad-institutions.csv',
      [
        'code,name,type,county,credit_code',
        'CLI-B3,好银行,rural_commercial_bank,晋江市,',
        'CLI-B4,坏银行,rural_commercial_bank,火星市,',
      ].join('\n'),
    );
    const error = await failure(() => institutionsImportCommand(config, logger, bad));
    expect(error.exitCode).toBe(2);
    // The second data row is line 3 of the file, as in observation uploads (the header is row 1).
    expect(error.message).toMatch(/row 3 \(county\): \[unknown_county\]/);
    expect(error.message).not.toMatch(/CLI-B3|row 2/);
    // Nothing of the bad file was stored: importing its good row alone creates it.
    const good = file(
      'good-institutions.csv',
      'code,name,type,county\nCLI-B3,好银行,rural_commercial_bank,晋江市\n',
    );
    expect(await institutionsImportCommand(config, logger, good)).toBe('institutions: 1 created, 0 updated');

    const badJson = file(
      'bad.json',
      JSON.stringify([{ code: 'CLI-B5', name: '缺类型银行', county: '晋江市' }]),
    );
    const jsonError = await failure(() => institutionsImportCommand(config, logger, badJson));
    expect(jsonError.message).toMatch(/row 1 \(type\): \[invalid_field\]/);
  });

  it('institutions import reads attributes from an attributes column, and names a bad one by row and field', async () => {
    const csv = file(
      'guarantee-firms.csv',
      [
        'code,name,type,county,attributes',
        'CLI-FG1,泉州测试政府性担保,financing_guarantee,市本级,government_backed',
        'CLI-FG2,开发区测试科技担保,financing_guarantee,泉州开发区,small_micro_focused=true;government_backed=false',
        'CLI-FG3,石狮测试担保,financing_guarantee,石狮市,',
      ].join('\n'),
    );
    expect(await institutionsImportCommand(config, logger, csv)).toBe('institutions: 3 created, 0 updated');

    const bad = file(
      'bad-attributes.csv',
      [
        'code,name,type,county,attributes',
        'CLI-ML1,测试小贷,microloan,南安市,government_backed',
        'CLI-FG4,测试担保,financing_guarantee,南安市,small_micro_focused=yes',
      ].join('\n'),
    );
    const error = await failure(() => institutionsImportCommand(config, logger, bad));
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/row 2 \(attributes\.government_backed\): \[attribute_not_for_type\]/);
    expect(error.message).toMatch(/row 3 \(attributes\.small_micro_focused\): \[invalid_attribute_value\]/);
  });

  it('keys create prints the token once; keys list shows its prefix, never the token; keys revoke revokes', async () => {
    const created = await keysCreateCommand(config, logger, {
      role: 'institution',
      name: '晋江农商行报送',
      institution: 'CLI-B1',
    });
    const [header, token, ...rest] = created.split('\n');
    expect(rest).toEqual([]);
    expect(header).toMatch(/^created key \S+ \(institution for CLI-B1\)$/);
    expect(token).toMatch(/^rw_[A-Za-z0-9_-]{40,}$/);
    const id = /^created key (\S+)/.exec(header as string)?.[1] as string;

    const listed = await keysListCommand(config, logger);
    expect(listed).toContain(id);
    expect(listed).toContain(`${tokenPrefix(token as string)}…`);
    expect(listed).not.toContain(token);
    expect(listed).toContain('晋江农商行报送');

    expect(await keysRevokeCommand(config, logger, id)).toBe(`revoked ${id}`);
    expect(await keysListCommand(config, logger)).toMatch(
      new RegExp(`${id}.*\\(revoked \\d{4}-\\d{2}-\\d{2}T`),
    );
    expect((await failure(() => keysRevokeCommand(config, logger, id))).message).toBe(`no active key ${id}`);

    expect(
      (await failure(() => keysCreateCommand(config, logger, { role: 'root', name: 'x' }))).exitCode,
    ).toBe(2);
    expect((await failure(() => keysCreateCommand(config, logger, { role: 'admin' }))).exitCode).toBe(2);
    expect(
      (await failure(() => keysCreateCommand(config, logger, { role: 'institution', name: 'x' }))).exitCode,
    ).toBe(2);
    const unknown = await failure(() =>
      keysCreateCommand(config, logger, { role: 'institution', name: 'x', institution: 'NO-SUCH' }),
    );
    expect(unknown.exitCode).toBe(2);
    expect(unknown.message).toBe('unknown institution NO-SUCH');
  });

  it('keys create --email keeps the address receipts go to, and refuses one that is not an address', async () => {
    const created = await keysCreateCommand(config, logger, {
      role: 'institution',
      name: '晋江农商行回执',
      institution: 'CLI-B1',
      email: 'filer@cli-b1.example.cn',
    });
    expect(created.split('\n')[0]).toMatch(
      /^created key \S+ \(institution for CLI-B1, receipts to filer@cli-b1\.example\.cn\)$/,
    );
    expect(await keysListCommand(config, logger)).toMatch(/晋江农商行回执 {2}<filer@cli-b1\.example\.cn>/);
    const bad = await failure(() =>
      keysCreateCommand(config, logger, { role: 'supervisor', name: 'x', email: 'filer at example' }),
    );
    expect(bad.exitCode).toBe(2);
    expect(bad.message).toBe('--email is not an e-mail address: filer at example');
  });

  it('import stores a long CSV, prints the receipt and writes an .eml for the alert it raises', async () => {
    const csv = file(
      'npl.csv',
      'institution,period,metric,value\nCLI-B1,2024-06,npl_balance,62000\nCLI-B1,2024-06,total_loans,1000000\n',
    );
    const receipt = JSON.parse(await importCommand(config, logger, csv));
    expect(receipt.submissions).toEqual([
      expect.objectContaining({ institution: 'CLI-B1', period: '2024-06', version: 1 }),
    ]);
    expect(receipt.alerts).toEqual([
      expect.objectContaining({ kind: 'firing', severity: 'critical', state: 'firing' }),
    ]);
    const emls = fs.readdirSync(config.outboxDir).filter((f) => f.endsWith('.eml'));
    expect(emls.length).toBeGreaterThan(0);
    const mails = await Promise.all(
      emls.map((f) => simpleParser(fs.readFileSync(path.join(config.outboxDir, f)))),
    );
    expect(mails.some((m) => m.subject?.includes('晋江测试农商行') && m.text?.includes('6.2'))).toBe(true);
  });

  it('import rejects a bad CSV with exit code 2, naming row and column, storing nothing', async () => {
    const before = fs.readdirSync(config.outboxDir).length;
    const csv = file(
      'bad.csv',
      'institution,period,metric,value\nCLI-B1,2024-07,npl_ratio,1.2\nCLI-B1,2024-7,npl_ratio,6.5\n',
    );
    const error = await failure(() => importCommand(config, logger, csv));
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/row 3 column 2 \(period\): \[invalid_period\]/);
    expect(error.message.split('\n')).toHaveLength(2);
    expect(fs.readdirSync(config.outboxDir)).toHaveLength(before);
    // The valid row of the rejected file was not stored: uploading it now makes version 1.
    const good = file('good.csv', 'institution,period,metric,value\nCLI-B1,2024-07,npl_ratio,1.2\n');
    const receipt = JSON.parse(await importCommand(config, logger, good));
    expect(receipt.submissions).toEqual([expect.objectContaining({ period: '2024-07', version: 1 })]);
    expect((await failure(() => importCommand(config, logger, undefined))).exitCode).toBe(2);
  });
});
