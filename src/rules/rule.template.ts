import type { Localized, Severity } from '../alerts/alert.types.js';

/** Placeholders a rule's `summary` templates may use, as `{{name}}`. */
export const PLACEHOLDERS = [
  'institution',
  'institution_name',
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
/** A placeholder name. */
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** Values for every placeholder in one language. */
export type TemplateValues = Readonly<Record<Placeholder, string>>;

// Whitespace inside the braces is tolerated so `{{ value }}` and `{{value}}` mean the same.
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const KNOWN: ReadonlySet<string> = new Set(PLACEHOLDERS);

/** The placeholder names a template uses that are not in {@link PLACEHOLDERS}, in order of appearance. */
export function unknownPlaceholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '').filter((name) => !KNOWN.has(name));
}

/**
 * Replaces every `{{name}}` with its value. Throws on a placeholder that is not known: templates are
 * checked when rule files load, so reaching one here is a bug that the rule's health must show.
 */
export function renderTemplate(template: string, values: TemplateValues): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    if (!KNOWN.has(name)) throw new Error(`unknown placeholder {{${name}}}`);
    return values[name as Placeholder];
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
  });
  return { zh: renderTemplate(templates.zh, values('zh')), en: renderTemplate(templates.en, values('en')) };
}
