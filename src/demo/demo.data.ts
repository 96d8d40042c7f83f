import { formatPeriod, mustParsePeriod, parsePeriod, shiftPeriod } from '../catalog/period.js';
import { demoCreditCode } from './demo.credit-code.js';
import {
  type BankProfile,
  DEMO_SPECS,
  type DemoInstitution,
  type DemoInstitutionSpec,
  type LeveragedProfile,
  type Path,
} from './demo.institutions.js';
import { signedNoise } from './demo.random.js';

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

/** Where a period stands: `k` months before the final month, and the drift share reached there. */
interface Step {
  readonly period: string;
  readonly k: number;
  readonly drift: number;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** A path's level `k` months before the end, with the given drift share and a wobble fixed by `key`. */
function level(path: Path, k: number, drift: number, key: string): number {
  return (
    path.base -
    ((path.perYear ?? 0) * k) / 12 +
    (path.drift ?? 0) * drift +
    (path.noise ?? 0) * signedNoise(key)
  );
}

function bankMonthly(code: string, p: BankProfile, s: Step): Record<string, number> {
  const loans = bankLoans(code, p, s);
  const month = mustParsePeriod(s.period).index;
  // Banks write off and dispose of bad loans before the half-year and year-end reports.
  const seasonal = month === 12 ? 0.94 : month === 6 ? 0.97 : 1;
  const npl = loans * (level(p.npl, s.k, s.drift, `${code}:npl:${s.period}`) / 100) * seasonal;
  const coverage = level(p.coverage, s.k, s.drift, `${code}:coverage:${s.period}`);
  return {
    npl_balance: round2(npl),
    total_loans: round2(loans),
    loan_loss_reserves: round2((npl * coverage) / 100),
    liquidity_ratio: round2(level(p.liquidity, s.k, s.drift, `${code}:liquidity:${s.period}`)),
  };
}

function bankLoans(code: string, p: BankProfile, s: Step): number {
  return p.loans * (1 + p.growth) ** -s.k * (1 + 0.004 * signedNoise(`${code}:loans:${s.period}`));
}

function bankQuarterly(
  code: string,
  p: BankProfile,
  s: Step,
  monthOfQuarterEnd: Step,
): Record<string, number> {
  const rwa =
    bankLoans(code, p, monthOfQuarterEnd) *
    p.rwaDensity *
    (1 + 0.01 * signedNoise(`${code}:rwa:${s.period}`));
  const car = level(p.car, s.k, s.drift, `${code}:car:${s.period}`);
  const tier1 = round2(car - p.tier1Gap + 0.05 * signedNoise(`${code}:tier1:${s.period}`));
  return {
    net_capital: round2((rwa * car) / 100),
    risk_weighted_assets: round2(rwa),
    tier1_ratio: tier1,
    core_tier1_ratio: round2(tier1 - p.coreGap),
  };
}

function leveragedMonthly(spec: DemoInstitutionSpec, p: LeveragedProfile, s: Step): Record<string, number> {
  const code = spec.institution.code;
  // Retained earnings grow net assets about 3% a year; a drift's losses take a share off.
  const netAssets =
    p.netAssets *
    1.0025 ** -s.k *
    (1 + (p.netAssetsDrift ?? 0) * s.drift) *
    (1 + 0.003 * signedNoise(`${code}:net_assets:${s.period}`));
  const exposure = netAssets * level(p.leverage, s.k, s.drift, `${code}:leverage:${s.period}`);
  const exposureMetric =
    spec.institution.type === 'financing_guarantee' ? 'guarantee_liability' : 'total_funding';
  return { [exposureMetric]: round2(exposure), net_assets: round2(netAssets) };
}

/**
 * Builds the demo sample: 20 fictional Quanzhou-like institutions with `months` monthly periods ending
 * at `endPeriod` and the quarterly periods whose quarter ends inside that window, as raw reported
 * figures only (the service derives the ratios). Pure and deterministic: each value depends only on
 * the institution, metric, period and its distance from `endPeriod`, so two windows ending in the
 * same month agree where they overlap. Four institutions drift into breach over the last months
 * (see {@link DEMO_BREACHES}). Observations come per institution (registration order), monthly periods
 * oldest first, then quarterly ones.
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
      push(code, s.period, p.kind === 'bank' ? bankMonthly(code, p, s) : leveragedMonthly(spec, p, s));
    }
    if (p.kind === 'bank') {
      for (const q of quarterSteps) push(code, q.step.period, bankQuarterly(code, p, q.step, q.month));
    }
  }
  return { institutions, observations: rows };
}
