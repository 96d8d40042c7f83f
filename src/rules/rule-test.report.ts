import { formatWallClock } from '../filing/zoned-day.js';
import type { DiffLine } from './rule-test.diff.js';
import type { RuleTestResult, RuleTestSuiteResult, StepFailure } from './rule-test.runner.js';

/**
 * The text report of a test file's run: one line when every test passes; otherwise a `FAIL` block
 * per failing test with, per step, the differences (`-` expected, `+` got) and rule errors.
 */
export function formatSuiteResult(result: RuleTestSuiteResult): string {
  const failed = result.tests.filter((t) => !t.ok);
  const count = `${result.tests.length} test${result.tests.length === 1 ? '' : 's'}`;
  if (failed.length === 0) return `${result.file}: ${count} passed`;
  return [
    `${result.file}: ${failed.length} of ${count} failed`,
    ...failed.map((t) => formatTestFailure(t, result.timeZone)),
  ].join('\n');
}

/** One failing test: its name and place, then each failing step. */
export function formatTestFailure(test: RuleTestResult, timeZone: string): string {
  const lines = [`FAIL ${test.where}: ${test.name}`];
  for (const failure of test.failures) lines.push(...formatStepFailure(failure, timeZone));
  return lines.join('\n');
}

function formatStepFailure(failure: StepFailure, timeZone: string): string[] {
  const when = `${failure.at} (evaluated ${formatInstant(failure.instant, timeZone)})`;
  const lines = [`  at ${when}${failure.where ? `, check at ${failure.where}` : ''}:`];
  const section = (title: string, diff: readonly DiffLine[] | undefined) => {
    if (!diff || diff.length === 0) return;
    lines.push(`    ${title} (- expected, + got):`);
    for (const line of diff) lines.push(`      ${line.sign} ${line.text}`);
  };
  section('exp_alerts', failure.alerts);
  section('exp_transitions', failure.transitions);
  for (const error of failure.errors ?? []) lines.push(`    rule error: ${error}`);
  return lines;
}

/** `2024-07-16 00:00 Asia/Shanghai`: the wall-clock time in the regulator's zone. */
export function formatInstant(at: Date, timeZone: string): string {
  return `${formatWallClock(at, timeZone)} ${timeZone}`;
}
