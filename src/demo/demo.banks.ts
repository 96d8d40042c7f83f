import { mustParsePeriod } from '../catalog/period.js';
import type { BankProfile } from './demo.institutions.js';
import { at, round2, type Step } from './demo.level.js';
import { signedNoise } from './demo.random.js';

/** Total loans in a month: the final month's, discounted by the monthly growth, with a small wobble. */
export function bankLoans(code: string, p: BankProfile, s: Step): number {
  return p.loans * (1 + p.growth) ** -s.k * (1 + 0.004 * signedNoise(`${code}:loans:${s.period}`));
}

/**
 * A bank's monthly balances: loans by class, reserves, deposits and the liquidity figures, from which the
 * service derives the NPL ratio, provision coverage, overdue-90 share, liquidity, HQLA adequacy, liquidity
 * matching and loan-to-deposit ratios. The NPL balance is reported as its three classes.
 */
export function bankMonthly(code: string, p: BankProfile, s: Step): Record<string, number> {
  const loans = bankLoans(code, p, s);
  const month = mustParsePeriod(s.period).index;
  // Banks write off and dispose of bad loans before the half-year and year-end reports.
  const seasonal = month === 12 ? 0.94 : month === 6 ? 0.97 : 1;
  const npl = loans * (at(p.npl, s, code, 'npl') / 100) * seasonal;
  const loss = round2(npl * (0.14 + 0.02 * signedNoise(`${code}:loss:${s.period}`)));
  const doubtful = round2(npl * (0.3 + 0.03 * signedNoise(`${code}:doubtful:${s.period}`)));
  const substandard = round2(npl - loss - doubtful);
  // As the service adds them up.
  const nplBalance = substandard + doubtful + loss;
  const deposits = loans / (at(p.loanToDeposit, s, code, 'ltd') / 100);
  const liquidLiabilities = deposits * 0.38;
  const outflow = deposits * 0.06;
  const uses = loans * 0.92;
  return {
    total_loans: round2(loans),
    loan_loss_reserves: round2((nplBalance * at(p.coverage, s, code, 'coverage')) / 100),
    substandard_loans: substandard,
    doubtful_loans: doubtful,
    loss_loans: loss,
    overdue_90_loans: round2((nplBalance * at(p.overdue90, s, code, 'overdue90')) / 100),
    total_deposits: round2(deposits),
    liquid_assets: round2((liquidLiabilities * at(p.liquidity, s, code, 'liquidity')) / 100),
    liquid_liabilities: round2(liquidLiabilities),
    hqla: round2((outflow * at(p.hqla, s, code, 'hqla')) / 100),
    net_short_term_outflow: round2(outflow),
    weighted_funding_sources: round2((uses * at(p.matching, s, code, 'matching')) / 100),
    weighted_funding_uses: round2(uses),
  };
}

/**
 * A bank's quarterly figures: capital and its tiers, the leverage-ratio exposure, the largest exposures over
 * net capital and the year's annualised profit. Capital tiers are whole 万元, so that core tier-1 capital net
 * of deductions never exceeds tier-1 capital after rounding (a check every upload must pass).
 */
export function bankQuarterly(
  code: string,
  p: BankProfile,
  s: Step,
  monthOfQuarterEnd: Step,
): Record<string, number> {
  const loans = bankLoans(code, p, monthOfQuarterEnd);
  const rwa = loans * p.rwaDensity * (1 + 0.01 * signedNoise(`${code}:rwa:${s.period}`));
  const car = at(p.car, s, code, 'car');
  const tier1 = car - p.tier1Gap + 0.05 * signedNoise(`${code}:tier1:${s.period}`);
  const netCapital = round2((rwa * car) / 100);
  const tier1Net = Math.round((rwa * tier1) / 100);
  const coreNet = Math.min(tier1Net, Math.round((rwa * (tier1 - p.coreGap)) / 100));
  const deductions = Math.round(coreNet * (0.035 + 0.005 * signedNoise(`${code}:deductions:${s.period}`)));
  const averageAssets = (loans / 0.62) * (1 + 0.005 * signedNoise(`${code}:assets:${s.period}`));
  return {
    net_capital: netCapital,
    risk_weighted_assets: round2(rwa),
    core_tier1_capital: coreNet + deductions,
    core_tier1_deductions: deductions,
    tier1_capital_net: tier1Net,
    adjusted_exposure: round2(loans * 1.75 * (1 + 0.01 * signedNoise(`${code}:exposure:${s.period}`))),
    largest_borrower_loans: round2((netCapital * at(p.borrower, s, code, 'borrower')) / 100),
    largest_group_credit: round2((netCapital * at(p.group, s, code, 'group')) / 100),
    related_party_credit: round2((netCapital * at(p.related, s, code, 'related')) / 100),
    annualized_net_profit: round2((averageAssets * at(p.roa, s, code, 'roa')) / 100),
    average_assets: round2(averageAssets),
    average_equity: round2(averageAssets * 0.075),
  };
}
