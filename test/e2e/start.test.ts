import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const TSX = path.resolve('node_modules/.bin/tsx');
const children: ChildProcess[] = [];

/** Starts `riskwatch serve` as `npm start` does, with only the given environment. */
function start(env: Record<string, string>) {
  // Its own process group, so that cleanup reaches tsx's child node process too.
  const child = spawn(TSX, ['src/main.ts', 'serve'], {
    detached: true,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`gave up after ${ms} ms`);
}

afterEach(() => {
  for (const c of children.splice(0)) {
    try {
      if (c.pid) process.kill(-c.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

describe('starting the service', () => {
  it('answers /healthz within 20 s on the embedded database, prints a first admin key once, and stops cleanly', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'riskwatch-start-'));
    const first = start({ DATA_DIR: dataDir, PORT: '0', SCHEDULER: 'off' });
    const port = await waitFor(
      () => /"port":(\d+)[^\n]*RiskWatch is listening/.exec(first.output())?.[1],
      20_000,
    );
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const token = /\n {4}(rw_[A-Za-z0-9_-]{43})\n/.exec(first.output())?.[1];
    expect(token).toBeDefined();
    const keys = await fetch(`http://127.0.0.1:${port}/api/v1/keys`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(keys.status).toBe(200);
    expect(first.output().split(token as string)).toHaveLength(2);

    // A second process on the same data directory must refuse to start rather than corrupt it.
    const second = start({ DATA_DIR: dataDir, PORT: '0', SCHEDULER: 'off' });
    expect(await second.exited).not.toBe(0);
    expect(second.output()).toContain('The data directory is in use');

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    // Restarted, it keeps its data and creates no second admin key.
    const again = start({ DATA_DIR: dataDir, PORT: '0', SCHEDULER: 'off' });
    const port2 = await waitFor(
      () => /"port":(\d+)[^\n]*RiskWatch is listening/.exec(again.output())?.[1],
      20_000,
    );
    const keys2 = await fetch(`http://127.0.0.1:${port2}/api/v1/keys`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(keys2.status).toBe(200);
    expect(again.output()).not.toContain('rw_');
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('fails loudly, listing every bad variable, on an invalid environment', async () => {
    const bad = start({ PORT: 'x', DATABASE_URL: 'mysql://nope', TIME_ZONE: 'Nowhere/City' });
    expect(await bad.exited).toBe(78);
    expect(bad.output()).toContain('PORT');
    expect(bad.output()).toContain('DATABASE_URL');
    expect(bad.output()).toContain('TIME_ZONE');
  });
});
