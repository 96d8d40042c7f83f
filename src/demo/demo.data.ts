import { formatPeriod, mustParsePeriod, parsePeriod, shiftPeriod } from '../catalog/period.js';
import { bankMonthly, bankQuarterly } from './demo.banks.js';
import { demoCreditCode } from './demo.credit-code.js';
import { DEMO_SPECS, type DemoInstitution } from './demo.institutions.js';
import type { Step } from './demo.level.js';
import { quasiMonthly } from './demo.quasi.js';

export { DEMO_BREACHES, type DemoBreach, type DemoInstitution } from './demo.institutions.js';

/** One raw reported figure: balances in 万元 (cny_10k), ratios in percent as published. */
export interface DemoObservation {
  readonly institution: string;
  readonly period: string;
  readonly metric: string;
  readonly value: number;
}

/** The demo sample: institutions to register, then their raw observations. */
export interface DemoData {
  readonly institutions: DemoInstitution[];
  readonly observations: DemoObservation[];
}

/** Months over which a drift ramps in (monthly metrics); quarterly metrics ramp over the last 3 quarters. */
const DRIFT_MONTHS = 9;
const DRIFT_QUARTERS = 3;
const MAX_MONTHS = 240;

/**
 * Builds the demo sample: 25 fictional Quanzhou-like institutions of every type, with `months` monthly
 * periods ending at `endPeriod` and the quarterly periods whose quarter ends inside that window, as raw
 * reported figures only (the service derives the ratios). Pure and deterministic: each value depends only
 * on the institution, metric, period and its distance from `endPeriod`, so two windows ending in the same
 * month agree where they overlap. Four institutions drift into breach over the last months (see
 * {@link DEMO_BREACHES}), a few others toward a warning line. Observations come per institution
 * (registration order), monthly periods oldest first, then quarterly ones.
 * @throws RangeError when `endPeriod` is not a monthly period `YYYY-MM` or `months` is not 1–240.
 */
export function buildDemoData(endPeriod: string, months = 24): DemoData {
  const end = parsePeriod(endPeriod);
  if (end?.frequency !== 'monthly') {
    throw new RangeError(`endPeriod must be a month like 2025-06, got ${JSON.stringify(endPeriod)}`);
  }
  if (!Number.isInteger(months) || months < 1 || months > MAX_MONTHS) {
    throw new RangeError(`months must be an integer from 1 to ${MAX_MONTHS}, got ${months}`);
  }

  const monthSteps: Step[] = [];
  for (let k = months - 1; k >= 0; k--) {
    monthSteps.push({
      period: formatPeriod(shiftPeriod(end, -k)),
      k,
      drift: Math.max(0, 1 - k / DRIFT_MONTHS),
    });
  }
  // Quarters whose last month lies in the window, oldest first; the last one carries the full drift.
  const quarterEnds = monthSteps.filter((s) => mustParsePeriod(s.period).index % 3 === 0);
  const quarterSteps = quarterEnds.map((m, i) => {
    const p = mustParsePeriod(m.period);
    const j = quarterEnds.length - 1 - i;
    return {
      step: { period: `${p.year}-Q${p.index / 3}`, k: m.k, drift: Math.max(0, 1 - j / DRIFT_QUARTERS) },
      month: m,
    };
  });

  const institutions: DemoInstitution[] = DEMO_SPECS.map((spec) => ({
    ...spec.institution,
    credit_code: demoCreditCode(spec.division, spec.institution.code),
  }));

  const rows: DemoObservation[] = [];
  const push = (institution: string, period: string, values: Record<string, number>) => {
    for (const [metric, value] of Object.entries(values)) rows.push({ institution, period, metric, value });
  };
  for (const spec of DEMO_SPECS) {
    const { code } = spec.institution;
    const p = spec.profile;
    for (const s of monthSteps) {
      push(code, s.period, p.kind === 'bank' ? bankMonthly(code, p, s) : quasiMonthly(spec, p, s));
    }
    if (p.kind === 'bank') {
      for (const q of quarterSteps) push(code, q.step.period, bankQuarterly(code, p, q.step, q.month));
    }
  }
  return { institutions, observations: rows };
}
