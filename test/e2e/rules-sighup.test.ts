import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';

const ADMIN = 'sighup-admin-token';

/** One JSON log line of the child. */
interface LogLine {
  readonly msg: string;
  readonly [field: string]: unknown;
}

/**
 * `riskwatch serve` as a real process on the embedded database, reloaded with real SIGHUPs: the signal
 * handler, not a function standing in for it, is what is tested.
 */
describe('SIGHUP', () => {
  let dir: string;
  let rulesDir: string;
  let child: ChildProcess;
  let lines: LogLine[] = [];
  let base = '';
  const exited = () => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  async function waitForLog(predicate: (line: LogLine) => boolean, ms = 15_000): Promise<LogLine> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const found = lines.find(predicate);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no such log line within ${ms} ms; got:\n${lines.map((l) => l.msg).join('\n')}`);
  }
  const get = async (url: string) => {
    const res = await fetch(`${base}${url}`, { headers: { Authorization: `Bearer ${ADMIN}` } });
    expect(res.status).toBe(200);
    return res;
  };
  const rules = async () => (await (await get('/api/v1/rules')).json()) as Record<string, unknown>;
  const metrics = async () => parsePrometheusText(await (await get('/metrics')).text());
  /** Sends SIGHUP and waits for the reload's own log line (the n-th one since start). */
  const hangUp = async (n: number) => {
    child.kill('SIGHUP');
    await waitForLog(() => lines.filter((l) => /^rules reload/.test(l.msg)).length >= n);
    return lines.filter((l) => /^rules reload/.test(l.msg))[n - 1] as LogLine;
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'riskwatch-sighup-'));
    rulesDir = path.join(dir, 'rules');
    fs.cpSync('rules', rulesDir, { recursive: true });
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
      env: {
        PATH: process.env.PATH ?? '',
        DATA_DIR: path.join(dir, 'data'),
        RULES_DIR: rulesDir,
        PORT: '0',
        HOST: '127.0.0.1',
        SCHEDULER: 'off',
        ADMIN_TOKEN: ADMIN,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const complete = buffered.split('\n');
      buffered = complete.pop() ?? '';
      for (const text of complete) if (text.startsWith('{')) lines.push(JSON.parse(text) as LogLine);
    });
    const listening = await waitForLog((l) => l.msg === 'RiskWatch is listening', 20_000);
    base = `http://127.0.0.1:${listening.port}`;
  }, 30_000);

  afterAll(async () => {
    if (child.exitCode === null) {
      const done = exited();
      child.kill('SIGKILL');
      await done;
    }
    fs.rmSync(dir, { recursive: true, force: true });
    lines = [];
  });

  it('refuses a broken folder with every problem logged, then swaps a good one in, logged, counted and audited', async () => {
    const before = await rules();
    const file = path.join(rulesDir, 'bank.rules.yaml');
    const good = fs.readFileSync(file, 'utf8');

    fs.writeFileSync(file, good.replace('metric: npl_ratio', 'metric: npl_ratoi'));
    const refused = await hangUp(1);
    expect(refused).toMatchObject({ level: 50, actor: 'signal:SIGHUP', hash: before.hash });
    expect(refused.problems).toEqual(
      expect.arrayContaining([
        { file, path: 'groups[0].rules[0].metric', line: 12, message: 'unknown metric npl_ratoi' },
      ]),
    );
    const during = await rules();
    expect(during.hash).toBe(before.hash);
    expect(during.last_reload_error).not.toBeNull();
    const failed = await metrics();
    expect(sampleValue(failed, 'riskwatch_rules_last_reload_successful')).toBe(0);
    expect(sampleValue(failed, 'riskwatch_rules_reloads_total', { result: 'failure' })).toBe(1);
    expect(sampleValue(failed, 'riskwatch_rules_loaded_info', { hash: before.hash as string })).toBe(1);

    fs.writeFileSync(file, good.replace(/threshold: 5\b/, 'threshold: 5.5'));
    const reloaded = await hangUp(2);
    const after = await rules();
    expect(after.hash).not.toBe(before.hash);
    expect(reloaded).toMatchObject({
      level: 30,
      msg: 'rules reloaded: new rules in force',
      actor: 'signal:SIGHUP',
      hash: after.hash,
      previous: before.hash,
      changed: true,
    });
    expect(after.last_reload_error).toBeNull();
    const succeeded = await metrics();
    expect(sampleValue(succeeded, 'riskwatch_rules_last_reload_successful')).toBe(1);
    expect(sampleValue(succeeded, 'riskwatch_rules_reloads_total', { result: 'success' })).toBe(1);
    expect(sampleValue(succeeded, 'riskwatch_rules_loaded_info', { hash: after.hash as string })).toBe(1);

    // The audit log is read once the process has let go of the embedded database.
    const done = exited();
    child.kill('SIGTERM');
    expect(await done).toBe(0);
    const handle = await openDatabase({ pgliteDir: path.join(dir, 'data', 'pg') });
    try {
      const audit = await handle.db
        .selectFrom('audit_log')
        .select(['actor', 'details'])
        .where('action', '=', 'rules.reload')
        .orderBy('id')
        .execute();
      expect(audit).toEqual([
        { actor: 'signal:SIGHUP', details: { ok: false, problems: 1 } },
        { actor: 'signal:SIGHUP', details: { ok: true, from: before.hash, to: after.hash } },
      ]);
    } finally {
      await handle.close();
    }
  }, 30_000);
});
