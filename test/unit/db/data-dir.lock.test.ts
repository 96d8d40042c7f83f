import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataDirLock } from '../../../src/db/data-dir.lock.js';

describe(DataDirLock.name, () => {
  const file = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rw-lock-')), 'riskwatch.lock');

  it('refuses a second holder while the first process lives', async () => {
    const lock = file();
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)']);
    try {
      fs.writeFileSync(lock, String(other.pid));
      expect(() => DataDirLock.acquire(lock)).toThrow(`in use by process ${other.pid}`);
    } finally {
      other.kill();
    }
  });

  it('takes over a lock left by a dead process, and releases it', async () => {
    const lock = file();
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => dead.on('exit', resolve));
    fs.writeFileSync(lock, String(dead.pid));
    const held = DataDirLock.acquire(lock);
    expect(fs.readFileSync(lock, 'utf8')).toBe(String(process.pid));
    held.release();
    expect(fs.existsSync(lock)).toBe(false);
  });
});
