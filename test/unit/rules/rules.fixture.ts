import { fileURLToPath } from 'node:url';
import type { ActiveAlert, ActiveState, Severity, TransitionKind } from '../../../src/alerts/alert.types.js';
import { Catalog } from '../../../src/catalog/catalog.js';
import { formatProblems } from '../../../src/config/yaml-file.js';
import {
  aggregateRegions,
  type EvaluationInput,
  evaluate,
  type InstitutionRef,
  type Observation,
} from '../../../src/rules/evaluate.js';
import { filingsFrom } from '../../../src/rules/rule.filing.js';
import type {
  MetricRule,
  MissingFilingRule,
  PeerOutlierRule,
  RegionAggregateRule,
  ThresholdRule,
} from '../../../src/rules/rule.schema.js';

/** The shipped rules folder, holding the real catalog and rule pack. */
export const RULES_DIR = fileURLToPath(new URL('../../../rules', import.meta.url));
export const FIXTURES_DIR = fileURLToPath(new URL('./fixtures', import.meta.url));

/** The shipped catalog: rule tests validate against the same vocabulary as production. */
export const catalog: Catalog = (() => {
  const loaded = Catalog.load(RULES_DIR);
  if (!loaded.ok) throw new Error(formatProblems(loaded.problems));
  return loaded.value;
})();

export const ruralBank: InstitutionRef = {
  code: 'QZ-RCB-01',
  name: '晋江农商银行',
  type: 'rural_commercial_bank',
  county: '晋江市',
};
export const villageBank: InstitutionRef = {
  code: 'QZ-VB-01',
  name: '安溪村镇银行',
  type: 'village_bank',
  county: '安溪县',
};
export const guaranteeFirm: InstitutionRef = {
  code: 'QZ-FG-01',
  name: '泉州融资担保',
  type: 'financing_guarantee',
  county: '丰泽区',
};

/** An NPL-ratio rule (warning above 4, critical above 5) with any field overridden. */
export function nplRule(overrides: Partial<ThresholdRule> = {}): ThresholdRule {
  return {
    id: 'npl',
    kind: 'threshold',
    metric: 'npl_ratio',
    types: ['rural_commercial_bank', 'village_bank'],
    op: '>',
    levels: [
      { severity: 'warning', threshold: 4 },
      { severity: 'critical', threshold: 5 },
    ],
    for: 1,
    keep_firing_for: 0,
    overrides: [],
    source: '核心指标',
    summary: {
      zh: '{{institution_name}}{{period}}{{metric_name}}{{value}}{{unit}}，超过{{severity_zh}}线{{threshold}}{{unit}}',
      en: '{{institution_name}} {{metric_name}} {{value}}{{unit}} in {{period}} ({{severity}} > {{threshold}}{{unit}})',
    },
    group: 'test',
    file: 'test.rules.yaml',
    ...overrides,
  };
}

/**
 * A peer-outlier rule on the NPL ratio of rural commercial and village banks: warning at a robust z above
 * 3, critical above 5, at least 5 values in a group; any field overridden.
 */
export function peerRule(overrides: Partial<PeerOutlierRule> = {}): PeerOutlierRule {
  return {
    id: 'npl_peer',
    kind: 'peer_outlier',
    metric: 'npl_ratio',
    types: ['rural_commercial_bank', 'village_bank'],
    method: 'robust_z',
    op: '>',
    levels: [
      { severity: 'warning', threshold: 3 },
      { severity: 'critical', threshold: 5 },
    ],
    recovery: undefined,
    min_peers: 5,
    for: 1,
    keep_firing_for: 0,
    source: '同类机构比较',
    summary: {
      zh: '{{institution_name}}{{period}}{{metric_name}}{{current}}{{unit}}，同类中位数{{median}}{{unit}}，z={{value}}（{{peers}}家{{type_name}}）',
      en: '{{institution_name}} {{metric_name}} {{current}}{{unit}} in {{period}}, peer median {{median}}{{unit}}, z {{value}} ({{peers}} {{type_name}})',
    },
    group: 'test',
    file: 'test.rules.yaml',
    ...overrides,
  };
}

/**
 * A region-aggregate rule on the NPL ratio (Σ npl_balance / Σ total_loans × 100) of rural commercial and
 * village banks per county: warning above 4, critical above 5, at least 3 members; any field overridden.
 */
export function regionRule(overrides: Partial<RegionAggregateRule> = {}): RegionAggregateRule {
  return {
    id: 'npl_region',
    kind: 'region_aggregate',
    metric: 'npl_ratio',
    types: ['rural_commercial_bank', 'village_bank'],
    by: ['county'],
    min_members: 3,
    op: '>',
    levels: [
      { severity: 'warning', threshold: 4 },
      { severity: 'critical', threshold: 5 },
    ],
    recovery: undefined,
    for: 1,
    keep_firing_for: 0,
    components: { numerator: 'npl_balance', denominator: 'total_loans', scale: 100 },
    source: '区域风险监测',
    summary: {
      zh: '{{region_name}}{{period}}{{metric_name}}{{value}}{{unit}}（{{members}}家，不良{{numerator}}万元/贷款{{denominator}}万元）',
      en: '{{region_name}} {{metric_name}} {{value}}{{unit}} in {{period}} ({{members}} members, {{numerator}} / {{denominator}})',
    },
    group: 'test',
    file: 'test.rules.yaml',
    ...overrides,
  };
}

/** A monthly missing-filing rule for rural commercial and village banks, with any field overridden. */
export function filingRule(overrides: Partial<MissingFilingRule> = {}): MissingFilingRule {
  return {
    id: 'monthly_filing',
    kind: 'missing_filing',
    frequency: 'monthly',
    types: ['rural_commercial_bank', 'village_bank'],
    severity: 'warning',
    lookback: 3,
    source: '报送要求',
    summary: {
      zh: '{{institution_name}}{{period}}{{frequency}}数据未报送，截止{{due_date}}，逾期{{days_overdue}}天',
      en: '{{institution_name}}: {{frequency}} data for {{period}} due {{due_date}}, {{value}} day(s) overdue',
    },
    group: 'test',
    file: 'test.rules.yaml',
    ...overrides,
  };
}

/** An instant given as a wall-clock time in Quanzhou (UTC+8, no DST): `2024-07-16 00:00`. */
export function quanzhou(text: string): Date {
  return new Date(`${text.replace(' ', 'T')}:00+08:00`);
}

/** An observation of `metric` for `institution`; the submission id defaults to 1. */
export function obs(
  institution: string,
  metric: string,
  period: string,
  value: number,
  submissionId = 1,
): Observation {
  return { institution, metric, period, value, submissionId };
}

/** A fixed clock: day `n` of 2024 (UTC). */
export function day(n: number): Date {
  return new Date(Date.UTC(2024, 0, n));
}

/**
 * What happens at a step besides a value arriving: `null` evaluates again with nothing new;
 * `data withdrawn` empties the institution's series; `rule broken` makes the rule throw (its metric
 * leaves the catalog), `rule fixed` restores it, `rule removed` drops it from the rule set.
 */
export type TimelineEvent = null | 'data withdrawn' | 'rule broken' | 'rule fixed' | 'rule removed';

/**
 * One step of a timeline: a period's value arrives (or an event happens), then the expected active
 * alert (`-` for none), its severity and run length, and the transition (`-` for none, `rule error`
 * when the rule's health is not ok).
 */
export type TimelineRow = [
  period: string,
  value: number | TimelineEvent,
  state: ActiveState | '-',
  severity: Severity | '-',
  periods: number | '-',
  transition: TransitionKind | '-' | 'rule error',
];

/** How a timeline of one rule turns a row into data and an evaluation, for kinds that need more. */
export interface TimelineSetup {
  /** The observations a row's value brings (default: the value of the rule's metric, for the institution). */
  readonly arrive?: (period: string, value: number, submissionId: number) => Observation[];
  /** Completes each evaluation's input (peers, region totals) from what it holds. */
  readonly extend?: (input: EvaluationInput) => EvaluationInput;
}

/**
 * Plays a timeline for one rule and one institution, feeding each step's active alerts back as
 * `previous`, and returns the rows as observed so the test compares whole tables. A row for a period
 * already given is a corrected resubmission (a newer submission id); one for an earlier period, late data.
 */
export function playTimeline(
  rule: MetricRule,
  institution: InstitutionRef,
  rows: readonly TimelineRow[],
  setup: TimelineSetup = {},
): TimelineRow[] {
  let previous: ActiveAlert[] = [];
  let observations: Observation[] = [];
  let rules: MetricRule[] = [rule];
  const arrive =
    setup.arrive ??
    ((period: string, value: number, id: number) => [obs(institution.code, rule.metric, period, value, id)]);
  return rows.map(([period, value], i) => {
    if (typeof value === 'number') observations.push(...arrive(period, value, i + 1));
    else if (value === 'data withdrawn') observations = [];
    else if (value === 'rule broken') rules = [{ ...rule, metric: 'no_such_metric' }];
    else if (value === 'rule fixed') rules = [rule];
    else if (value === 'rule removed') rules = [];
    const input: EvaluationInput = {
      rules,
      catalog,
      institutions: [institution],
      observations,
      filings: filingsOf(observations),
      previous,
      now: day(i + 1),
    };
    const result = evaluate(setup.extend ? setup.extend(input) : input);
    previous = result.active;
    const alert = result.active[0];
    const failed = result.health.some((h) => !h.ok);
    return [
      period,
      value,
      alert?.state ?? '-',
      alert?.severity ?? '-',
      alert?.periods ?? '-',
      failed ? 'rule error' : (result.transitions[0]?.kind ?? '-'),
    ];
  });
}

/** The filings observations stand for (see `filingsFrom`). */
export const filingsOf = filingsFrom;

/** The three fixture institutions, and an evaluation in which the rural bank's NPL alert fires. */
export const base = { catalog, institutions: [ruralBank, villageBank, guaranteeFirm] };
export function firingNpl() {
  return evaluate({
    ...base,
    rules: [nplRule()],
    observations: [obs(ruralBank.code, 'npl_ratio', '2024-03', 6.2, 7)],
    previous: [],
    now: day(1),
  });
}

/** Rural commercial banks of 晋江市 beside the fixture's own, as peers and region members. */
export const jinjiangBanks: InstitutionRef[] = [1, 2, 3, 4, 5].map((n) => ({
  code: `QZ-RCB-1${n}`,
  name: `晋江农商银行${n}`,
  type: 'rural_commercial_bank',
  county: '晋江市',
}));

/**
 * Completes an input with region totals aggregated from its observations over `population` (as the
 * service computes them in SQL) and with empty peers (the scope is judged against `population`).
 */
export function withTotals(population: readonly InstitutionRef[]) {
  return (input: EvaluationInput): EvaluationInput => ({
    ...input,
    regionTotals: aggregateRegions(input.rules, input.catalog, population, input.observations),
  });
}
