import fs from 'node:fs';

/**
 * An exclusive lock on the embedded database's directory. PGlite takes no lock of its own and two
 * processes writing one directory corrupt it, so a second process must fail at start instead.
 * The lock file holds the owner's PID; a lock left by a dead process is taken over.
 */
export class DataDirLock {
  private constructor(private readonly file: string) {}

  /** @throws Error naming the live PID that holds the lock. */
  static acquire(file: string): DataDirLock {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
        return new DataDirLock(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
        if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
          throw new Error(
            `The data directory is in use by process ${holder} (lock file ${file}). ` +
              'The embedded database allows one process; stop the other one or set DATABASE_URL.',
          );
        }
        fs.rmSync(file, { force: true });
      }
    }
    throw new Error(`Could not take the lock ${file}`);
  }

  release(): void {
    try {
      if (fs.readFileSync(this.file, 'utf8') === String(process.pid)) fs.rmSync(this.file);
    } catch {
      // Already gone: nothing to release.
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
