import type {
  DemoInstitutionSpec,
  FactoringProfile,
  LeasingProfile,
  LeveragedProfile,
  PawnProfile,
  PrivateCapitalProfile,
} from './demo.institutions.js';
import { at, monthOfYear, round2, type Step } from './demo.level.js';
import { signedNoise } from './demo.random.js';

/** A figure growing about 3% a year (retained earnings): `final` in the final month, less before. */
const grown = (final: number, s: Step, code: string, name: string) =>
  final * 1.0025 ** -s.k * (1 + 0.003 * signedNoise(`${code}:${name}:${s.period}`));

/** The monthly raw figures of a quasi-financial firm, by the kind of its profile. */
export function quasiMonthly(
  spec: DemoInstitutionSpec,
  p: Exclude<DemoInstitutionSpec['profile'], { kind: 'bank' }>,
  s: Step,
): Record<string, number> {
  const code = spec.institution.code;
  switch (p.kind) {
    case 'leveraged':
      return spec.institution.type === 'financing_guarantee'
        ? guaranteeMonthly(code, p, s)
        : microloanMonthly(code, p, s);
    case 'pawn':
      return pawnMonthly(code, p, s);
    case 'leasing':
      return leasingMonthly(code, p, s);
    case 'factoring':
      return factoringMonthly(code, p, s);
    case 'private_capital':
      return privateCapitalMonthly(code, p, s);
  }
}

function netAssetsOf(code: string, p: LeveragedProfile, s: Step): number {
  // A drift's losses take a share off net assets.
  return grown(p.netAssets, s, code, 'net_assets') * (1 + (p.netAssetsDrift ?? 0) * s.drift);
}

/**
 * Guarantee liability (weighted, 责任余额) and guarantees in force at face value (在保余额, a little more),
 * the largest exposures, and year-to-date flows: a year of new guarantees and of releases each about the
 * size of the book, fees and compensations as rates of them.
 */
function guaranteeMonthly(code: string, p: LeveragedProfile, s: Step): Record<string, number> {
  const netAssets = netAssetsOf(code, p, s);
  const liability = netAssets * at(p.leverage, s, code, 'leverage');
  const balance = liability * 1.12;
  const largest = at(p.largest, s, code, 'largest');
  const month = monthOfYear(s.period);
  const written = balance * 0.085 * month;
  const released = balance * 0.08 * month;
  const rate = (path: LeveragedProfile['feeRate'], name: string) => (path ? at(path, s, code, name) : 0);
  return {
    guarantee_liability: round2(liability),
    net_assets: round2(netAssets),
    largest_party_guarantee: round2((netAssets * largest) / 100),
    largest_party_group_guarantee: round2((netAssets * (largest + 3)) / 100),
    guarantee_balance: round2(balance),
    small_micro_agri_guarantee_balance: round2((balance * rate(p.smallMicroShare, 'share')) / 100),
    guarantee_fee_income: round2((written * rate(p.feeRate, 'fee')) / 100),
    new_guarantee_amount: round2(written),
    compensation_paid: round2((released * rate(p.compensation, 'compensation')) / 100),
    guarantees_released: round2(released),
  };
}

/** Funding by kind ("1+4"): bank and shareholder loans, and bonds or ABS when the firm issues any. */
function microloanMonthly(code: string, p: LeveragedProfile, s: Step): Record<string, number> {
  const netAssets = netAssetsOf(code, p, s);
  const largest = at(p.largest, s, code, 'largest');
  return {
    net_assets: round2(netAssets),
    non_standard_funding: round2(netAssets * at(p.leverage, s, code, 'leverage')),
    standardized_funding: p.standardized
      ? round2(netAssets * at(p.standardized, s, code, 'standardized'))
      : 0,
    largest_borrower_balance: round2((netAssets * largest) / 100),
    largest_borrower_group_balance: round2((netAssets * (largest + 3)) / 100),
  };
}

function pawnMonthly(code: string, p: PawnProfile, s: Step): Record<string, number> {
  const capital = p.registeredCapital;
  const share = (path: PawnProfile['pawns'], name: string) => (capital * at(path, s, code, name)) / 100;
  const netAssets = share(p.netAssets, 'net_assets');
  return {
    registered_capital: capital,
    net_assets: round2(netAssets),
    pawn_balance: round2(share(p.pawns, 'pawns')),
    bank_borrowings: round2((netAssets * at(p.bankBorrowing, s, code, 'bank')) / 100),
    largest_pawner_balance: round2(share(p.largestPawner, 'largest')),
    property_rights_pledge_balance: round2(share(p.propertyRights, 'property')),
    real_estate_pawn_balance: round2(share(p.realEstate, 'real_estate')),
  };
}

function leasingMonthly(code: string, p: LeasingProfile, s: Step): Record<string, number> {
  const total = grown(p.totalAssets, s, code, 'total_assets');
  const netAssets = grown(p.netAssets, s, code, 'net_assets');
  return {
    net_assets: round2(netAssets),
    total_assets: round2(total),
    risk_assets: round2((total * at(p.riskShare, s, code, 'risk')) / 100),
    leasing_assets: round2((total * at(p.leasingShare, s, code, 'leasing')) / 100),
    largest_lessee_balance: round2((netAssets * at(p.lessee, s, code, 'lessee')) / 100),
    largest_lessee_group_balance: round2((netAssets * at(p.lesseeGroup, s, code, 'group')) / 100),
  };
}

function factoringMonthly(code: string, p: FactoringProfile, s: Step): Record<string, number> {
  const netAssets = grown(p.netAssets, s, code, 'net_assets');
  const risk = netAssets * at(p.riskLeverage, s, code, 'leverage');
  return {
    net_assets: round2(netAssets),
    total_assets: round2(risk * 1.1),
    risk_assets: round2(risk),
    largest_debtor_receivables: round2((risk * at(p.debtor, s, code, 'debtor')) / 100),
    related_party_receivables: round2((risk * at(p.related, s, code, 'related')) / 100),
  };
}

function privateCapitalMonthly(code: string, p: PrivateCapitalProfile, s: Step): Record<string, number> {
  const capital = p.registeredCapital;
  return {
    registered_capital: capital,
    net_assets: round2((capital * at(p.netAssets, s, code, 'net_assets')) / 100),
    original_net_capital: capital,
    external_funding: round2(capital * at(p.externalLeverage, s, code, 'external')),
  };
}
