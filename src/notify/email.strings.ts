import type { Severity } from '../alerts/alert.types.js';
import type { MailKind } from './notification.payload.js';
import type { Lang } from './routes.js';

/** The fixed wording of alert e-mails, per language. */
export interface EmailStrings {
  readonly locale: string;
  readonly severity: Readonly<Record<Severity, string>>;
  readonly kind: Readonly<Record<MailKind, string>>;
  readonly regional: string;
  readonly institution: string;
  readonly metric: string;
  readonly value: string;
  readonly threshold: string;
  readonly difference: string;
  readonly period: string;
  readonly duration: string;
  readonly since: (first: string, periods: number) => string;
  readonly resolvedSince: (first: string, period: string) => string;
  readonly source: string;
  readonly rule: string;
  readonly time: string;
  readonly details: string;
  readonly heading: (kind: string, severity: string) => string;
  readonly footer: string;
  /** Separator between items in a sentence: `，` in Chinese, `, ` in English. */
  readonly comma: string;
  readonly paren: (s: string) => string;
}

/** Display of the catalog's units; an unknown unit is shown as written. */
export const UNIT_LABELS: Readonly<Record<string, Readonly<Record<Lang, { suffix: string; diff: string }>>>> =
  {
    // A difference of two percentages is in percentage points, not percent.
    percent: { zh: { suffix: '%', diff: ' 个百分点' }, en: { suffix: '%', diff: ' percentage points' } },
    times: { zh: { suffix: ' 倍', diff: ' 倍' }, en: { suffix: '×', diff: '×' } },
    cny_10k: { zh: { suffix: ' 万元', diff: ' 万元' }, en: { suffix: ' (CNY 10k)', diff: ' (CNY 10k)' } },
    count: { zh: { suffix: '', diff: '' }, en: { suffix: '', diff: '' } },
  };

export const STRINGS: Readonly<Record<Lang, EmailStrings>> = {
  zh: {
    locale: 'zh-CN',
    severity: { info: '提示', warning: '警告', critical: '严重' },
    kind: { firing: '触发', escalated: '升级', deescalated: '降级', resolved: '解除' },
    regional: '区域汇总',
    institution: '机构',
    metric: '指标',
    value: '当前值',
    threshold: '阈值',
    difference: '相差',
    period: '期间',
    duration: '持续',
    since: (first, n) => `自 ${first} 起连续 ${n} 期`,
    resolvedSince: (first, period) => `自 ${first} 起，于 ${period} 解除`,
    source: '依据',
    rule: '规则',
    time: '时间',
    details: '查看预警详情',
    heading: (kind, severity) => `预警${kind}（${severity}）`,
    footer: '此邮件由 RiskWatch 风险监测预警系统自动发送，请勿直接回复。',
    comma: '，',
    paren: (s) => `（${s}）`,
  },
  en: {
    locale: 'en-US',
    severity: { info: 'Info', warning: 'Warning', critical: 'Critical' },
    kind: { firing: 'Firing', escalated: 'Escalated', deescalated: 'De-escalated', resolved: 'Resolved' },
    regional: 'Regional aggregate',
    institution: 'Institution',
    metric: 'Metric',
    value: 'Value',
    threshold: 'threshold',
    difference: 'difference',
    period: 'Period',
    duration: 'Duration',
    since: (first, n) => `${n} consecutive period${n === 1 ? '' : 's'} since ${first}`,
    resolvedSince: (first, period) => `Since ${first}, resolved in ${period}`,
    source: 'Legal basis',
    rule: 'Rule',
    time: 'Time',
    details: 'View the alert',
    heading: (kind, severity) => `Alert ${kind.toLowerCase()} (${severity})`,
    footer: 'Sent automatically by RiskWatch, the risk early-warning service. Please do not reply.',
    comma: ', ',
    paren: (s) => ` (${s})`,
  },
};
