import type { Localized, Severity } from '../alerts/alert.types.js';
import type { Frequency } from '../catalog/period.js';

/** What every alert about a metric's value says, whoever it is about: the figure, its line and its run. */
const VALUE_PLACEHOLDERS = [
  'metric',
  'metric_name',
  'value',
  'threshold',
  'unit',
  'period',
  'first_period',
  'periods',
  'severity',
  'severity_zh',
] as const;

/** Placeholders a threshold rule's `summary` templates may use, as `{{name}}`. */
export const PLACEHOLDERS = ['institution', 'institution_name', ...VALUE_PLACEHOLDERS] as const;
/** A placeholder name of a threshold rule. */
export type Placeholder = (typeof PLACEHOLDERS)[number];

/**
 * Placeholders of the change, trend and projection rules: a threshold rule's, where `value` is what the
 * rule judges (the change, the periods of decline, the projected value), plus `current`, the metric's
 * own latest value.
 */
export const SERIES_PLACEHOLDERS = [...PLACEHOLDERS, 'current'] as const;

/**
 * Placeholders of a peer-outlier rule: a series rule's, where `value` is the statistic (z or percentile
 * rank) and `current` the metric's own value, plus the peer group's `median` (of the metric), `peers`
 * (how many institutions the group has, the judged one included) and `type_name` (the group's type).
 */
export const PEER_PLACEHOLDERS = [...SERIES_PLACEHOLDERS, 'median', 'peers', 'type_name'] as const;

/**
 * Placeholders of a region-aggregate rule: no institution; the region (`region`, e.g. `county:晋江市`, and
 * `region_name`, 晋江市 / Jinjiang), the `members` that reported both components, and the `numerator` and
 * `denominator` sums; `value` is the aggregate ratio.
 */
export const REGION_PLACEHOLDERS = [
  'region',
  'region_name',
  'members',
  'numerator',
  'denominator',
  ...VALUE_PLACEHOLDERS,
] as const;
/** A placeholder name of a region-aggregate rule. */
export type RegionPlaceholder = (typeof REGION_PLACEHOLDERS)[number];

/** Values for every placeholder in one language. */
export type TemplateValues = Readonly<Record<Placeholder, string>>;

/**
 * Placeholders a `missing_filing` rule's templates may use. `value` and `days_overdue` are the same
 * number; the metric, unit, threshold and run placeholders mean nothing for a filing and are refused.
 */
export const FILING_PLACEHOLDERS = [
  'institution',
  'institution_name',
  'period',
  'frequency',
  'due_date',
  'days_overdue',
  'value',
  'severity',
  'severity_zh',
] as const;
/** A placeholder name of a missing-filing rule. */
export type FilingPlaceholder = (typeof FILING_PLACEHOLDERS)[number];

// Whitespace inside the braces is tolerated so `{{ value }}` and `{{value}}` mean the same.
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/**
 * The placeholder names a template uses that are not in `known` (by default a threshold rule's
 * {@link PLACEHOLDERS}), in order of appearance.
 */
export function unknownPlaceholders(template: string, known: readonly string[] = PLACEHOLDERS): string[] {
  const names = new Set(known);
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '').filter((name) => !names.has(name));
}

/**
 * Replaces every `{{name}}` with its value. Throws on a placeholder that has no value: templates are
 * checked when rule files load, so reaching one here is a bug that the rule's health must show.
 */
export function renderTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    const value = Object.hasOwn(values, name) ? values[name] : undefined;
    if (value === undefined) throw new Error(`unknown placeholder {{${name}}}`);
    return value;
  });
}

/** Formats a number with at most two decimals and no trailing zeros (`4.5`, `10`, `6.23`). */
export function formatNumber(value: number): string {
  // `Number(...)` drops trailing zeros and turns `-0.00` into 0, which prints as `0`.
  return String(Number(value.toFixed(2)));
}

/** Unit labels per catalog unit; a metric without a printable unit gets an empty label. */
const UNIT_LABELS: Readonly<Record<string, Localized>> = {
  percent: { zh: '%', en: '%' },
  times: { zh: '倍', en: 'x' },
  cny_10k: { zh: '万元', en: ' 10k CNY' },
  count: { zh: '', en: '' },
};

/** The label of a catalog unit in one language (`percent` → `%`, `times` → `倍` / `x`). */
export function unitLabel(unit: string, lang: keyof Localized): string {
  return UNIT_LABELS[unit]?.[lang] ?? '';
}

/** Chinese names of severities as supervisors use them. */
export const SEVERITY_ZH: Readonly<Record<Severity, string>> = {
  info: '提示',
  warning: '预警',
  critical: '严重',
};

/** The facts an alert message is made of, before formatting and translation. */
export interface SummaryFacts {
  readonly institution: string;
  readonly institutionName: string;
  readonly metric: string;
  readonly metricName: Localized;
  /** The catalog unit (`percent`, `times`, `cny_10k`, …). */
  readonly unit: string;
  readonly value: number;
  readonly threshold: number;
  readonly period: string;
  readonly firstPeriod: string;
  readonly periods: number;
  readonly severity: Severity;
  /** The metric's own latest value, where the rule judges something derived from it. */
  readonly current?: number;
  /** More placeholders a kind has (a peer group's `median`, …), as text or per language. */
  readonly extra?: Readonly<Record<string, string | Localized>>;
}

/** Renders a rule's zh and en summary templates with the facts of one alert. */
export function renderSummary(templates: Localized, facts: SummaryFacts): Localized {
  const values = (lang: keyof Localized): TemplateValues => ({
    institution: facts.institution,
    institution_name: facts.institutionName,
    metric: facts.metric,
    metric_name: facts.metricName[lang],
    value: formatNumber(facts.value),
    threshold: formatNumber(facts.threshold),
    unit: unitLabel(facts.unit, lang),
    period: facts.period,
    first_period: facts.firstPeriod,
    periods: String(facts.periods),
    severity: facts.severity,
    severity_zh: SEVERITY_ZH[facts.severity],
    ...(facts.current !== undefined ? { current: formatNumber(facts.current) } : {}),
    ...(facts.extra
      ? Object.fromEntries(
          Object.entries(facts.extra).map(([k, v]) => [k, typeof v === 'string' ? v : v[lang]]),
        )
      : {}),
  });
  return { zh: renderTemplate(templates.zh, values('zh')), en: renderTemplate(templates.en, values('en')) };
}

/** Names of reporting frequencies as they read in a sentence (`月度` / `monthly`). */
export const FREQUENCY_LABELS: Readonly<Record<Frequency, Localized>> = {
  monthly: { zh: '月度', en: 'monthly' },
  quarterly: { zh: '季度', en: 'quarterly' },
};

/** The facts a missing-filing message is made of. */
export interface FilingSummaryFacts {
  readonly institution: string;
  readonly institutionName: string;
  readonly period: string;
  readonly frequency: Frequency;
  /** The due day, `YYYY-MM-DD`, in the regulator's time zone. */
  readonly dueDate: string;
  readonly daysOverdue: number;
  readonly severity: Severity;
}

/** Renders a missing-filing rule's zh and en summary templates. */
export function renderFilingSummary(templates: Localized, facts: FilingSummaryFacts): Localized {
  const values = (lang: keyof Localized): Readonly<Record<FilingPlaceholder, string>> => ({
    institution: facts.institution,
    institution_name: facts.institutionName,
    period: facts.period,
    frequency: FREQUENCY_LABELS[facts.frequency][lang],
    due_date: facts.dueDate,
    days_overdue: String(facts.daysOverdue),
    value: String(facts.daysOverdue),
    severity: facts.severity,
    severity_zh: SEVERITY_ZH[facts.severity],
  });
  return { zh: renderTemplate(templates.zh, values('zh')), en: renderTemplate(templates.en, values('en')) };
}

/** The facts a region-aggregate message is made of. */
export interface RegionSummaryFacts {
  /** `county:晋江市`, `type:village_bank`, `city:*`. */
  readonly region: string;
  readonly regionName: Localized;
  readonly members: number;
  readonly numerator: number;
  readonly denominator: number;
  readonly metric: string;
  readonly metricName: Localized;
  readonly unit: string;
  readonly value: number;
  readonly threshold: number;
  readonly period: string;
  readonly firstPeriod: string;
  readonly periods: number;
  readonly severity: Severity;
}

/** Renders a region-aggregate rule's zh and en summary templates. */
export function renderRegionSummary(templates: Localized, facts: RegionSummaryFacts): Localized {
  const values = (lang: keyof Localized): Readonly<Record<RegionPlaceholder, string>> => ({
    region: facts.region,
    region_name: facts.regionName[lang],
    members: String(facts.members),
    numerator: formatNumber(facts.numerator),
    denominator: formatNumber(facts.denominator),
    metric: facts.metric,
    metric_name: facts.metricName[lang],
    value: formatNumber(facts.value),
    threshold: formatNumber(facts.threshold),
    unit: unitLabel(facts.unit, lang),
    period: facts.period,
    first_period: facts.firstPeriod,
    periods: String(facts.periods),
    severity: facts.severity,
    severity_zh: SEVERITY_ZH[facts.severity],
  });
  return { zh: renderTemplate(templates.zh, values('zh')), en: renderTemplate(templates.en, values('en')) };
}
