/**
 * The fictional Quanzhou-like sample the demo data describes: who reports, and the shape of each one's
 * series. Levels follow REGULATION.md's reference figures (NPL about 1.4–2%, provision coverage
 * 180–210%, capital adequacy 13–15%, rural banks weaker) and sit inside every limit of the shipped pack,
 * except four institutions that drift into breach and a few that drift toward a warning line.
 */

/** An institution of the demo sample, as it would be registered. */
export interface DemoInstitution {
  readonly code: string;
  readonly name: string;
  readonly type: string;
  readonly county: string;
  /** Fictional, GB 32100 checksum-valid. */
  readonly credit_code?: string;
  /** e.g. `government_backed`, `small_micro_focused` for guarantee firms (catalog.yaml institution_attributes). */
  readonly attributes?: Readonly<Record<string, boolean>>;
}

/**
 * A series level: `base` in the final period, `perYear` its steady change per year (so a year
 * earlier it was `base - perYear`), `drift` added in full in the final period and ramped in over
 * the last few periods, `noise` the amplitude of a deterministic wobble.
 */
export interface Path {
  readonly base: number;
  readonly perYear?: number;
  readonly drift?: number;
  readonly noise?: number;
}

export interface BankProfile {
  readonly kind: 'bank';
  /** Total loans in the final month, 万元. */
  readonly loans: number;
  /** Monthly loan growth rate. */
  readonly growth: number;
  /** NPL ratio, percent. */
  readonly npl: Path;
  /** Provision coverage, percent. */
  readonly coverage: Path;
  /** Liquidity ratio, percent. */
  readonly liquidity: Path;
  /** Capital adequacy ratio, percent (quarterly). */
  readonly car: Path;
  /** Capital adequacy minus tier-1 ratio, percentage points (tier-2 capital). */
  readonly tier1Gap: number;
  /** Tier-1 minus core tier-1 ratio, percentage points (additional tier-1 capital). */
  readonly coreGap: number;
  /** Risk-weighted assets per unit of loans. */
  readonly rwaDensity: number;
  /** Loan-to-deposit ratio, percent. */
  readonly loanToDeposit: Path;
  /** Loans more than 90 days overdue, percent of the NPLs. */
  readonly overdue90: Path;
  /** HQLA adequacy and liquidity matching ratios, percent. */
  readonly hqla: Path;
  readonly matching: Path;
  /** Largest borrower, largest group and all related parties, percent of net capital (quarterly). */
  readonly borrower: Path;
  readonly group: Path;
  readonly related: Path;
  /** Return on assets, percent (quarterly, annualised). */
  readonly roa: Path;
}

/** Guarantee firms and microloan companies: an exposure that is a multiple of net assets. */
export interface LeveragedProfile {
  readonly kind: 'leveraged';
  /** Net assets in the final month without drift, 万元. */
  readonly netAssets: number;
  /** Relative change of net assets by the final month from the drift (e.g. -0.12 for losses). */
  readonly netAssetsDrift?: number;
  /** Guarantee liability, or non-standard funding (bank and shareholder loans), over net assets, times. */
  readonly leverage: Path;
  /** Microloan: standardised debt (bonds, ABS) over net assets, times; none when absent. */
  readonly standardized?: Path;
  /** Largest guaranteed party or borrower, percent of net assets; with its related parties 3 points more. */
  readonly largest: Path;
  /** Guarantee: small/micro and agriculture share of guarantees in force, percent. */
  readonly smallMicroShare?: Path;
  /** Guarantee: average fee rate and compensation rate, percent. */
  readonly feeRate?: Path;
  readonly compensation?: Path;
}

export interface PawnProfile {
  readonly kind: 'pawn';
  readonly registeredCapital: number;
  /** Each in percent of registered capital, but bank borrowing in percent of net assets. */
  readonly netAssets: Path;
  readonly pawns: Path;
  readonly bankBorrowing: Path;
  readonly largestPawner: Path;
  readonly propertyRights: Path;
  readonly realEstate: Path;
}

export interface LeasingProfile {
  readonly kind: 'leasing';
  readonly totalAssets: number;
  readonly netAssets: number;
  /** Leasing assets and risk assets, percent of total assets. */
  readonly leasingShare: Path;
  readonly riskShare: Path;
  /** Largest lessee and largest group, percent of net assets. */
  readonly lessee: Path;
  readonly lesseeGroup: Path;
}

export interface FactoringProfile {
  readonly kind: 'factoring';
  readonly netAssets: number;
  /** Risk assets over net assets, times; total assets a tenth above risk assets. */
  readonly riskLeverage: Path;
  /** Largest debtor and related-party debtors, percent of risk assets. */
  readonly debtor: Path;
  readonly related: Path;
}

export interface PrivateCapitalProfile {
  readonly kind: 'private_capital';
  /** Registered capital, which is also its original net capital, 万元. */
  readonly registeredCapital: number;
  /** Net assets, percent of registered capital. */
  readonly netAssets: Path;
  /** External funding over original net capital, times. */
  readonly externalLeverage: Path;
}

export type DemoProfile =
  | BankProfile
  | LeveragedProfile
  | PawnProfile
  | LeasingProfile
  | FactoringProfile
  | PrivateCapitalProfile;

export interface DemoInstitutionSpec {
  readonly institution: Omit<DemoInstitution, 'credit_code'>;
  /** 6-digit administrative division code used in the credit code. */
  readonly division: string;
  readonly profile: DemoProfile;
}

type BankDefaults =
  | 'tier1Gap'
  | 'coreGap'
  | 'rwaDensity'
  | 'loanToDeposit'
  | 'overdue90'
  | 'hqla'
  | 'matching'
  | 'borrower'
  | 'group'
  | 'related'
  | 'roa';
const bank = (p: Omit<BankProfile, 'kind' | BankDefaults> & Partial<BankProfile>) =>
  ({
    kind: 'bank',
    tier1Gap: 1.3,
    coreGap: 0,
    rwaDensity: 1.05,
    loanToDeposit: { base: 72, noise: 1.5 },
    overdue90: { base: 78, noise: 3 },
    hqla: { base: 210, noise: 12 },
    matching: { base: 138, noise: 4 },
    borrower: { base: 5.2, noise: 0.3 },
    group: { base: 8.6, noise: 0.4 },
    related: { base: 21, noise: 1.5 },
    roa: { base: 0.92, noise: 0.04 },
    ...p,
  }) as BankProfile;
const guarantee = (
  netAssets: number,
  leverage: Path,
  extra: Partial<Omit<LeveragedProfile, 'kind' | 'netAssets' | 'leverage'>> = {},
): LeveragedProfile => ({
  kind: 'leveraged',
  netAssets,
  leverage,
  largest: { base: 5.5, noise: 0.4 },
  smallMicroShare: { base: 68, noise: 1.5 },
  feeRate: { base: 1.9, noise: 0.05 },
  compensation: { base: 1.6, noise: 0.15 },
  ...extra,
});
const microloan = (
  netAssets: number,
  leverage: Path,
  extra: Partial<Omit<LeveragedProfile, 'kind' | 'netAssets' | 'leverage'>> = {},
): LeveragedProfile => ({
  kind: 'leveraged',
  netAssets,
  leverage,
  largest: { base: 6.2, noise: 0.4 },
  ...extra,
});

const institution = (
  { division, ...identity }: { code: string; name: string; type: string; county: string; division: string },
  profile: DemoProfile,
  attributes?: Record<string, boolean>,
): DemoInstitutionSpec => ({
  institution: { ...identity, ...(attributes ? { attributes } : {}) },
  division,
  profile,
});

const RCB = 'rural_commercial_bank';
const RCC = 'rural_credit_cooperative';
const VB = 'village_bank';
const FG = 'financing_guarantee';
const ML = 'microloan';

/** The sample, in registration order. Codes carry a `DEMO-` prefix so they never clash with real ones. */
export const DEMO_SPECS: readonly DemoInstitutionSpec[] = [
  institution(
    {
      code: 'DEMO-QZCB',
      name: '泉州商业银行(演示)',
      type: 'city_commercial_bank',
      county: '丰泽区',
      division: '350503',
    },
    bank({
      loans: 18_600_000,
      growth: 0.009,
      npl: { base: 1.32, perYear: -0.08, noise: 0.03 },
      coverage: { base: 205, perYear: 4, noise: 3 },
      liquidity: { base: 68, noise: 2.5 },
      car: { base: 13.6, perYear: 0.15, noise: 0.08 },
      tier1Gap: 2.3,
      coreGap: 1.4,
      rwaDensity: 1.15,
    }),
  ),
  institution(
    { code: 'DEMO-JJRCB', name: '晋江农村商业银行(演示)', type: RCB, county: '晋江市', division: '350582' },
    bank({
      loans: 5_200_000,
      growth: 0.008,
      npl: { base: 1.55, perYear: -0.1, noise: 0.04 },
      coverage: { base: 232, perYear: 6, noise: 4 },
      liquidity: { base: 62, noise: 2.5 },
      car: { base: 14.3, perYear: 0.2, noise: 0.1 },
    }),
  ),
  institution(
    { code: 'DEMO-SSRCB', name: '石狮农村商业银行(演示)', type: RCB, county: '石狮市', division: '350581' },
    // Drifts toward a warning: lending to one large local manufacturer takes its single-borrower
    // concentration past the 8% warning line over the last three quarters (the limit is 10%).
    bank({
      loans: 2_650_000,
      growth: 0.007,
      npl: { base: 1.88, perYear: -0.05, noise: 0.04 },
      coverage: { base: 196, perYear: 3, noise: 4 },
      liquidity: { base: 58, noise: 2.5 },
      car: { base: 13.4, perYear: 0.1, noise: 0.1 },
      borrower: { base: 6.1, drift: 3.0, noise: 0.1 },
    }),
  ),
  institution(
    { code: 'DEMO-NARCB', name: '南安农村商业银行(演示)', type: RCB, county: '南安市', division: '350583' },
    // Loans outgrow deposits month after month (no limit since 2015: an info trend, not a breach).
    bank({
      loans: 3_100_000,
      growth: 0.007,
      npl: { base: 1.74, perYear: -0.06, noise: 0.04 },
      coverage: { base: 188, perYear: 2, noise: 4 },
      liquidity: { base: 55, noise: 2.5 },
      car: { base: 13.1, perYear: 0.1, noise: 0.1 },
      loanToDeposit: { base: 84, perYear: 7, noise: 0.1 },
    }),
  ),
  institution(
    { code: 'DEMO-HARCB', name: '惠安农村商业银行(演示)', type: RCB, county: '惠安县', division: '350521' },
    bank({
      loans: 1_850_000,
      growth: 0.006,
      npl: { base: 1.96, perYear: -0.04, noise: 0.04 },
      coverage: { base: 181, perYear: 2, noise: 4 },
      liquidity: { base: 60, noise: 2.5 },
      car: { base: 13.8, perYear: 0.1, noise: 0.1 },
    }),
  ),
  institution(
    { code: 'DEMO-AXRCB', name: '安溪农村商业银行(演示)', type: RCB, county: '安溪县', division: '350524' },
    bank({
      loans: 2_050_000,
      growth: 0.006,
      npl: { base: 2.12, perYear: -0.03, noise: 0.04 },
      coverage: { base: 176, perYear: 2, noise: 4 },
      liquidity: { base: 57, noise: 2.5 },
      car: { base: 12.9, perYear: 0.05, noise: 0.1 },
    }),
  ),
  // Drifts: NPL ratio from about 2.4% past the 5% limit, provision coverage under 150%, liquidity and
  // capital eroded by the losses (capital stays above 10.5%).
  institution(
    { code: 'DEMO-YCRCB', name: '永春农村商业银行(演示)', type: RCB, county: '永春县', division: '350525' },
    bank({
      loans: 980_000,
      growth: 0.004,
      npl: { base: 2.35, perYear: 0.05, drift: 3.35, noise: 0.03 },
      coverage: { base: 172, drift: -42, noise: 2 },
      liquidity: { base: 52, drift: -8, noise: 2 },
      car: { base: 12.4, drift: -0.9, noise: 0.05 },
      // The provisions for the new NPLs eat the profit: below the 0.6% monitoring level (info).
      roa: { base: 0.78, drift: -0.6, noise: 0.02 },
    }),
  ),
  institution(
    {
      code: 'DEMO-DHRCC',
      name: '德化县农村信用合作联社(演示)',
      type: RCC,
      county: '德化县',
      division: '350526',
    },
    bank({
      loans: 620_000,
      growth: 0.005,
      npl: { base: 2.85, perYear: -0.1, noise: 0.05 },
      coverage: { base: 168, perYear: 3, noise: 3 },
      liquidity: { base: 64, noise: 3 },
      car: { base: 12.2, perYear: 0.1, noise: 0.1 },
      tier1Gap: 1.1,
    }),
  ),
  institution(
    {
      code: 'DEMO-QGRCC',
      name: '泉港区农村信用合作联社(演示)',
      type: RCC,
      county: '泉港区',
      division: '350505',
    },
    bank({
      loans: 540_000,
      growth: 0.005,
      npl: { base: 2.62, perYear: -0.08, noise: 0.05 },
      coverage: { base: 171, perYear: 3, noise: 3 },
      liquidity: { base: 61, noise: 3 },
      car: { base: 12.6, perYear: 0.1, noise: 0.1 },
      tier1Gap: 1.1,
    }),
  ),
  institution(
    {
      code: 'DEMO-LJRCC',
      name: '洛江区农村信用合作联社(演示)',
      type: RCC,
      county: '洛江区',
      division: '350504',
    },
    bank({
      loans: 410_000,
      growth: 0.004,
      npl: { base: 2.95, perYear: -0.12, noise: 0.05 },
      coverage: { base: 163, perYear: 2, noise: 3 },
      liquidity: { base: 66, noise: 3 },
      car: { base: 11.9, perYear: 0.1, noise: 0.1 },
      tier1Gap: 1.1,
    }),
  ),
  institution(
    { code: 'DEMO-NAVB', name: '南安汇民村镇银行(演示)', type: VB, county: '南安市', division: '350583' },
    bank({
      loans: 165_000,
      growth: 0.006,
      npl: { base: 1.45, noise: 0.05 },
      coverage: { base: 215, noise: 5 },
      liquidity: { base: 72, noise: 3 },
      car: { base: 14.6, perYear: 0.1, noise: 0.1 },
      tier1Gap: 1.0,
    }),
  ),
  // Drifts: fast loan growth outruns its capital; capital adequacy falls under 10.5% (tier-1 and core
  // tier-1 stay just above their 8.5% / 7.5% floors).
  institution(
    { code: 'DEMO-HAVB', name: '惠安海丝村镇银行(演示)', type: VB, county: '惠安县', division: '350521' },
    bank({
      loans: 128_000,
      growth: 0.012,
      npl: { base: 2.2, drift: 1.1, noise: 0.05 },
      coverage: { base: 175, drift: -15, noise: 3 },
      liquidity: { base: 48, noise: 2 },
      car: { base: 12.3, drift: -2.55, noise: 0.05 },
      tier1Gap: 1.0,
    }),
  ),
  institution(
    {
      code: 'DEMO-QZFG',
      name: '泉州市融资担保有限责任公司(演示)',
      type: FG,
      county: '市本级',
      division: '350500',
    },
    // Government-backed: below the plan's 5x target a year ago (info), above it now.
    guarantee(
      215_000,
      { base: 5.2, perYear: 1.3, noise: 0.08 },
      {
        largest: { base: 3.2, noise: 0.2 },
        smallMicroShare: { base: 86.5, noise: 1 },
        feeRate: { base: 0.85, noise: 0.03 },
        compensation: { base: 0.9, noise: 0.1 },
      },
    ),
    { government_backed: true },
  ),
  // Drifts: guarantee liability grows while compensation losses shrink net assets: leverage past 10x, and
  // the compensation rate past the 3% warning line.
  institution(
    {
      code: 'DEMO-JJFG',
      name: '晋江恒信融资担保有限公司(演示)',
      type: FG,
      county: '晋江市',
      division: '350582',
    },
    guarantee(
      42_000,
      { base: 6.6, perYear: 0.4, drift: 4.3, noise: 0.08 },
      { netAssetsDrift: -0.12, compensation: { base: 1.8, drift: 2.0, noise: 0.1 } },
    ),
  ),
  institution(
    {
      code: 'DEMO-SSFG',
      name: '石狮海润融资担保有限公司(演示)',
      type: FG,
      county: '石狮市',
      division: '350581',
    },
    guarantee(31_000, { base: 3.4, perYear: 0.2, noise: 0.08 }),
  ),
  // Mainly serves small/micro firms: its 13.8x is a warning under its 15x limit, where 10x would be critical.
  institution(
    {
      code: 'DEMO-KFFG',
      name: '泉州开发区科技融资担保有限公司(演示)',
      type: FG,
      county: '泉州开发区',
      division: '350500',
    },
    guarantee(
      26_000,
      { base: 13.8, perYear: 2, noise: 0.05 },
      { smallMicroShare: { base: 92, noise: 1 }, feeRate: { base: 1.2, noise: 0.04 } },
    ),
    { small_micro_focused: true },
  ),
  institution(
    {
      code: 'DEMO-LCML',
      name: '鲤城区鑫源小额贷款有限公司(演示)',
      type: ML,
      county: '鲤城区',
      division: '350502',
    },
    microloan(35_000, { base: 0.62, noise: 0.04 }),
  ),
  // Drifts toward a warning: bank loans close to the 1x limit on non-standard funding (past 0.9x).
  institution(
    {
      code: 'DEMO-FZML',
      name: '丰泽区泉商小额贷款有限公司(演示)',
      type: ML,
      county: '丰泽区',
      division: '350503',
    },
    microloan(52_000, { base: 0.95, perYear: 0.1, noise: 0.02 }),
  ),
  // Drifts: bond and ABS funding pile up past the 4x limit on standardised debt ("1+4").
  institution(
    {
      code: 'DEMO-JJML',
      name: '晋江市安盛小额贷款有限公司(演示)',
      type: ML,
      county: '晋江市',
      division: '350582',
    },
    microloan(
      28_000,
      { base: 0.55, noise: 0.03 },
      { netAssetsDrift: -0.05, standardized: { base: 2.35, perYear: 0.3, drift: 2.55, noise: 0.04 } },
    ),
  ),
  institution(
    {
      code: 'DEMO-TSML',
      name: '泉州台商投资区海峡小额贷款有限公司(演示)',
      type: ML,
      county: '泉州台商投资区',
      division: '350500',
    },
    microloan(18_000, { base: 0.35, noise: 0.03 }),
  ),
  institution(
    {
      code: 'DEMO-LCPN',
      name: '泉州市鲤城区恒通典当有限公司(演示)',
      type: 'pawn',
      county: '鲤城区',
      division: '350502',
    },
    {
      kind: 'pawn',
      registeredCapital: 5_000,
      netAssets: { base: 106, perYear: 1, noise: 0.5 },
      pawns: { base: 128, noise: 4 },
      bankBorrowing: { base: 42, noise: 2 },
      largestPawner: { base: 13, noise: 0.8 },
      propertyRights: { base: 28, noise: 1.5 },
      realEstate: { base: 61, noise: 2 },
    },
  ),
  // Drifts toward a warning: one pawner's balance past 20% of registered capital (the limit is 25%).
  institution(
    {
      code: 'DEMO-JJPN',
      name: '晋江市鑫泰典当有限责任公司(演示)',
      type: 'pawn',
      county: '晋江市',
      division: '350582',
    },
    {
      kind: 'pawn',
      registeredCapital: 3_000,
      netAssets: { base: 103, noise: 0.5 },
      pawns: { base: 118, noise: 4 },
      bankBorrowing: { base: 35, noise: 2 },
      largestPawner: { base: 15, drift: 7.2, noise: 0.4 },
      propertyRights: { base: 22, noise: 1.5 },
      realEstate: { base: 70, noise: 2 },
    },
  ),
  institution(
    {
      code: 'DEMO-TSFL',
      name: '泉州台商投资区海丝融资租赁有限公司(演示)',
      type: 'financial_leasing',
      county: '泉州台商投资区',
      division: '350500',
    },
    {
      kind: 'leasing',
      totalAssets: 180_000,
      netAssets: 30_000,
      leasingShare: { base: 78, noise: 1.5 },
      riskShare: { base: 91, noise: 0.8 },
      lessee: { base: 17, noise: 0.8 },
      lesseeGroup: { base: 31, noise: 1.2 },
    },
  ),
  institution(
    {
      code: 'DEMO-JJCF',
      name: '晋江市闽南商业保理有限公司(演示)',
      type: 'commercial_factoring',
      county: '晋江市',
      division: '350582',
    },
    {
      kind: 'factoring',
      netAssets: 12_000,
      riskLeverage: { base: 5.6, perYear: 0.3, noise: 0.1 },
      debtor: { base: 27, noise: 1.5 },
      related: { base: 11, noise: 0.8 },
    },
  ),
  institution(
    {
      code: 'DEMO-JJPC',
      name: '晋江市民间资本管理股份有限公司(演示)',
      type: 'private_capital',
      county: '晋江市',
      division: '350582',
    },
    {
      kind: 'private_capital',
      registeredCapital: 8_000,
      netAssets: { base: 108, perYear: 2, noise: 0.5 },
      externalLeverage: { base: 2.2, perYear: 0.2, noise: 0.05 },
    },
  ),
];

/** A limit a drifting demo institution breaches in the final period, as computed from its raw figures. */
export interface DemoBreach {
  readonly institution: string;
  readonly metric: string;
  readonly limit: number;
  readonly direction: 'max' | 'min';
}

/** The breaches the demo is built to show (REGULATION.md limits); every other institution stays inside. */
export const DEMO_BREACHES: readonly DemoBreach[] = [
  { institution: 'DEMO-YCRCB', metric: 'npl_ratio', limit: 5, direction: 'max' },
  { institution: 'DEMO-YCRCB', metric: 'provision_coverage_ratio', limit: 150, direction: 'min' },
  { institution: 'DEMO-HAVB', metric: 'capital_adequacy_ratio', limit: 10.5, direction: 'min' },
  { institution: 'DEMO-JJFG', metric: 'guarantee_leverage', limit: 10, direction: 'max' },
  { institution: 'DEMO-JJML', metric: 'standardized_funding_leverage', limit: 4, direction: 'max' },
];
