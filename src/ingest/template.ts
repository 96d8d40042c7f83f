import type { Catalog } from '../catalog/catalog.js';
import type { InstitutionTypeDef, MetricDef } from '../catalog/catalog.schema.js';
import { FREQUENCIES, mustParsePeriod } from '../catalog/period.js';

/** Languages a template's headers and notes come in; zh is the regulator's default. */
export const TEMPLATE_LANGS = ['zh', 'en'] as const;
export type TemplateLang = (typeof TEMPLATE_LANGS)[number];

/** File formats a template is written in (see template.writer.ts). */
export const TEMPLATE_FORMATS = ['csv', 'xlsx'] as const;
export type TemplateFormat = (typeof TEMPLATE_FORMATS)[number];

/** One column of the data sheet: a fixed column, or a metric with its unit. */
export type TemplateColumn =
  | { readonly kind: 'institution' | 'period'; readonly header: string }
  | {
      readonly kind: 'metric';
      /** The metric's name with its unit in parentheses, as the upload's header resolver accepts it. */
      readonly header: string;
      readonly metric: MetricDef;
      readonly name: string;
      readonly unit: string;
      /** A formula metric: may be left empty, the service then computes it. */
      readonly derived: boolean;
      /** Whether it is filled for this period: quarterly metrics only in a quarter's last month. */
      readonly expected: boolean;
    };

/** One line of the notes sheet, describing a metric column. */
export interface TemplateNote {
  readonly code: string;
  readonly name: string;
  readonly unit: string;
  readonly frequency: string;
  readonly range: string;
  readonly formula: string;
  readonly remark: string;
}

/** Everything a template file holds, independent of its format. */
export interface Template {
  readonly type: InstitutionTypeDef;
  readonly lang: TemplateLang;
  /** The month the prefilled row is for, `YYYY-MM`. */
  readonly period: string;
  readonly columns: readonly TemplateColumn[];
  /** The row under the header: institution code (or empty), period, empty metric cells. */
  readonly prefill: readonly string[];
  readonly notes: readonly TemplateNote[];
  /** Header of the notes table, in the order of {@link TemplateNote}'s fields. */
  readonly noteHeaders: readonly string[];
  /** General instructions printed under the notes table. */
  readonly instructions: readonly string[];
  readonly sheetNames: { readonly data: string; readonly notes: string };
}

const STRINGS = {
  zh: {
    institution: '机构代码',
    period: '报告期',
    paren: (s: string) => `（${s}）`,
    units: { percent: '%', times: '倍', cny_10k: '万元', count: '个' },
    frequency: { monthly: '月度', quarterly: '季度' },
    anyValue: '不限',
    derived: '可留空：留空时系统按公式计算',
    quarterly: '仅在季末月份（3、6、9、12月）填写，按所在季度存储',
    sheets: { data: '数据', notes: '说明' },
    noteHeaders: ['指标代码', '指标名称', '单位', '报送频度', '取值范围', '计算公式', '备注'],
    instructions: (type: string, period: string) => [
      `机构类型：${type}；报告期：${period}（格式 YYYY-MM）。`,
      '每行填写一个机构一个报告期的数据；数值只填数字，不含千分位分隔符、百分号或单位。',
      '不报送的指标留空。填好后直接上传本工作簿，或另存为 CSV（UTF-8 或 GBK）后上传。',
    ],
  },
  en: {
    institution: 'institution',
    period: 'period',
    paren: (s: string) => ` (${s})`,
    units: { percent: '%', times: 'times', cny_10k: 'CNY 10k', count: 'count' },
    frequency: { monthly: 'monthly', quarterly: 'quarterly' },
    anyValue: 'any',
    derived: 'May be left empty: the service then computes it from the formula',
    quarterly: "Filled only in a quarter's last month (Mar, Jun, Sep, Dec); stored under the quarter",
    sheets: { data: 'Data', notes: 'Notes' },
    noteHeaders: ['Code', 'Name', 'Unit', 'Frequency', 'Allowed range', 'Formula', 'Remark'],
    instructions: (type: string, period: string) => [
      `Institution type: ${type}; period: ${period} (written YYYY-MM).`,
      'One row per institution and period; write plain numbers: no thousands separators, percent signs or units.',
      'Leave metrics you do not report empty. Upload this workbook as it is, or saved as CSV (UTF-8 or GBK).',
    ],
  },
} as const;

/** What a template is built for. */
export interface TemplateRequest {
  readonly type: string;
  readonly lang: TemplateLang;
  /** A month, `YYYY-MM`. */
  readonly period: string;
  /** The institution code to prefill, or null for an empty cell. */
  readonly institution: string | null;
}

/**
 * Builds the wide-layout upload template of an institution type: `institution,period` then every
 * metric the type reports, monthly before quarterly and, within each, reported balances and ratios
 * before formula metrics (which may be left empty), in catalog order otherwise. Quarterly columns are
 * always present so the layout is the same every month; they are marked expected only in a quarter's
 * last month. Pure.
 * @throws RangeError for a type not in the catalog or a period that is not a month.
 */
export function buildTemplate(catalog: Catalog, request: TemplateRequest): Template {
  const type = catalog.types.get(request.type);
  if (!type) throw new RangeError(`Unknown institution type ${JSON.stringify(request.type)}`);
  const period = mustParsePeriod(request.period);
  if (period.frequency !== 'monthly') {
    throw new RangeError(`A template is for a month like 2024-06, not ${JSON.stringify(request.period)}`);
  }
  const s = STRINGS[request.lang];
  const quarterEnd = period.index % 3 === 0;
  const rank = (m: MetricDef) => FREQUENCIES.indexOf(m.frequency) * 2 + (m.formula ? 1 : 0);
  // Array.prototype.sort is stable, so catalog order holds within each group.
  const metrics = catalog.metricsFor(type.code).sort((a, b) => rank(a) - rank(b));

  const columns: TemplateColumn[] = [
    { kind: 'institution', header: s.institution },
    { kind: 'period', header: s.period },
    ...metrics.map((metric) => {
      const name = metric.name[request.lang];
      const unit = s.units[metric.unit];
      return {
        kind: 'metric' as const,
        header: `${name}${s.paren(unit)}`,
        metric,
        name,
        unit,
        derived: metric.formula !== undefined,
        expected: metric.frequency === 'monthly' || quarterEnd,
      };
    }),
  ];
  const notes = metrics.map((m) => ({
    code: m.code,
    name: m.name[request.lang],
    unit: s.units[m.unit],
    frequency: s.frequency[m.frequency],
    range: formatRange(m.range, s.anyValue),
    formula: m.formula ?? '',
    remark: [m.formula ? s.derived : '', m.frequency === 'quarterly' ? s.quarterly : '']
      .filter(Boolean)
      .join(request.lang === 'zh' ? '；' : '; '),
  }));
  return {
    type,
    lang: request.lang,
    period: request.period,
    columns,
    prefill: [request.institution ?? '', request.period, ...metrics.map(() => '')],
    notes,
    noteHeaders: s.noteHeaders,
    instructions: s.instructions(`${type.name[request.lang]} (${type.code})`, request.period),
    sheetNames: s.sheets,
  };
}

function formatRange(range: MetricDef['range'], anyValue: string): string {
  const { min, max } = range;
  if (min !== undefined && max !== undefined) return `${min} – ${max}`;
  if (min !== undefined) return `≥ ${min}`;
  if (max !== undefined) return `≤ ${max}`;
  return anyValue;
}

export { latestEndedMonth } from '../catalog/calendar.js';
