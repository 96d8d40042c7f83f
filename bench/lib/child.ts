import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** The hook that makes a child Node process report its own peak RSS at exit. */
const PEAK_RSS_HOOK = path.join(path.dirname(new URL(import.meta.url).pathname), 'peak-rss.hook.ts');

/** A finished child process: wall time, peak memory, exit status, output. */
export interface ChildRun {
  /** From spawn to exit. */
  readonly ms: number;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /**
   * Peak resident set size in bytes: the larger of `VmHWM` polled from /proc/<pid>/status and the
   * process's own `resourceUsage().maxRSS` written at exit (the poll misses a peak in its last interval;
   * the exit report is missing when the process is killed).
   */
  readonly peakRssBytes: number | undefined;
  readonly polledPeakRssBytes: number | undefined;
  readonly reportedPeakRssBytes: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

/** The running child, for a caller that must kill it (a signal handler). */
let current: { pid: number } | undefined;

/** Kills the child `runNode` is waiting for, if any (SIGKILL). */
export function killCurrentChild(): void {
  if (!current) return;
  try {
    process.kill(current.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function vmHwmBytes(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `node --import tsx <args>` in the project root with only `env` (plus PATH and HOME), measuring
 * wall time and peak RSS (polled every `pollMs`). Kills it with SIGKILL after `timeoutMs`. With
 * `compiled`, a folder holding the project built to JavaScript (`tsc --outDir`), runs the `.js` files
 * there with plain `node` instead, as the production build runs.
 */
export async function runNode(
  args: readonly string[],
  env: Record<string, string>,
  options: { pollMs?: number; timeoutMs?: number; compiled?: string } = {},
): Promise<ChildRun> {
  const rssFile = path.join(os.tmpdir(), `riskwatch-bench-rss-${process.pid}-${Date.now()}`);
  const started = performance.now();
  const { compiled } = options;
  const nodeArgs = compiled
    ? [
        '--import',
        pathToFileURL(path.join(compiled, 'bench/lib/peak-rss.hook.js')).href,
        ...args.map((a) => (a.endsWith('.ts') ? path.join(compiled, a.replace(/\.ts$/, '.js')) : a)),
      ]
    : ['--import', 'tsx', '--import', PEAK_RSS_HOOK, ...args];
  // e.g. BENCH_CHILD_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the child.
  const extra = process.env.BENCH_CHILD_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...extra, ...nodeArgs], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? os.tmpdir(),
      ...env,
      BENCH_PEAK_RSS_FILE: rssFile,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start node ${args.join(' ')}`);
  current = { pid };
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => stdout.push(d));
  child.stderr.on('data', (d: Buffer) => stderr.push(d));
  let polled: number | undefined;
  const poll = () => {
    const v = vmHwmBytes(pid);
    if (v !== undefined && (polled === undefined || v > polled)) polled = v;
  };
  const poller = setInterval(poll, options.pollMs ?? 50);
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30 * 60_000);
  const { code, signal, ms } = await new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    ms: number;
  }>((resolve, reject) => {
    child.once('error', reject);
    // 'exit' comes first with the time; 'close' waits for the pipes to drain.
    let ms = 0;
    child.once('exit', () => {
      ms = performance.now() - started;
    });
    child.once('close', (c, s) => resolve({ code: c, signal: s, ms }));
  });
  clearInterval(poller);
  clearTimeout(timer);
  current = undefined;
  let reported: number | undefined;
  try {
    reported = Number(fs.readFileSync(rssFile, 'utf8'));
    fs.rmSync(rssFile, { force: true });
  } catch {
    reported = undefined;
  }
  const peaks = [polled, reported].filter((v): v is number => v !== undefined && Number.isFinite(v));
  return {
    ms,
    exitCode: code,
    signal,
    peakRssBytes: peaks.length > 0 ? Math.max(...peaks) : undefined,
    polledPeakRssBytes: polled,
    reportedPeakRssBytes: reported,
    stdout: Buffer.concat(stdout).toString('utf8'),
    stderr: Buffer.concat(stderr).toString('utf8'),
  };
}
