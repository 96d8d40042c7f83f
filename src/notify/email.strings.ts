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
  /** Missing filings: the label of what is missing, the due day and the days overdue. */
  readonly filing: string;
  readonly due: string;
  readonly endOfDay: (date: string, timeZone: string) => string;
  readonly unknownDue: string;
  readonly overdue: string;
  readonly days: (n: number) => string;
  readonly filedLate: (n: number) => string;
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
    filing: '报送',
    due: '截止',
    endOfDay: (date, timeZone) => `${date} 当日结束（${timeZone}）`,
    unknownDue: '未知（截止期限已不在配置中）',
    overdue: '逾期',
    days: (n) => `${n} 天`,
    filedLate: (n) => `已收到报送，逾期 ${n} 天`,
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
    filing: 'Filing',
    due: 'Due',
    endOfDay: (date, timeZone) => `end of ${date} (${timeZone})`,
    unknownDue: 'unknown (the deadline is no longer configured)',
    overdue: 'Overdue',
    days: (n) => `${n} day${n === 1 ? '' : 's'}`,
    filedLate: (n) => `Filed, ${n} day${n === 1 ? '' : 's'} late`,
    rule: 'Rule',
    time: 'Time',
    details: 'View the alert',
    heading: (kind, severity) => `Alert ${kind.toLowerCase()} (${severity})`,
    footer: 'Sent automatically by RiskWatch, the risk early-warning service. Please do not reply.',
    comma: ', ',
    paren: (s) => ` (${s})`,
  },
};

/** The fixed wording of upload receipt e-mails, per language. */
export interface ReceiptStrings {
  readonly locale: string;
  readonly subject: (id: number, file: string, submissions: number, warnings: number) => string;
  /** One line saying it all, with the link: the English line under a Chinese receipt. */
  readonly summary: (id: number, file: string, submissions: number, warnings: number, link: string) => string;
  readonly heading: (file: string) => string;
  /** Shown for an upload without a file name (a JSON body). */
  readonly noFileName: string;
  readonly receiptNo: string;
  readonly receivedAt: string;
  readonly uploadedBy: string;
  readonly file: string;
  readonly format: string;
  readonly institutions: string;
  readonly periods: string;
  readonly counts: string;
  readonly countsValue: (c: {
    rows: number;
    observations: number;
    derived: number;
    submissions: number;
    late: number;
    warnings: number;
  }) => string;
  readonly versions: string;
  readonly version: (institution: string, period: string, version: number, late: boolean) => string;
  readonly warningsToExplain: string;
  readonly warningsExplained: string;
  readonly at: (row: number | null, column: number | null) => string;
  readonly more: (n: number) => string;
  readonly explainHow: (url: string) => string;
  readonly details: string;
  readonly footer: string;
  /** Separator between the items of a list in a sentence: `、` in Chinese, `, ` in English. */
  readonly listSeparator: string;
  readonly paren: (s: string) => string;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export const RECEIPT_STRINGS: Readonly<Record<Lang, ReceiptStrings>> = {
  zh: {
    locale: 'zh-CN',
    subject: (id, file, n, w) => `RiskWatch 回执 #${id}: 已接收 ${file} (${n} 份报送, ${w} 条警告)`,
    summary: (id, file, n, w, link) => `回执 #${id}：已接收 ${file}，${n} 份报送，${w} 条警告。详情：${link}`,
    heading: (file) => `报送回执：已接收 ${file}`,
    noFileName: 'JSON 数据',
    receiptNo: '回执编号',
    receivedAt: '接收时间',
    uploadedBy: '上传者',
    file: '文件',
    format: '格式',
    institutions: '机构数',
    periods: '期间',
    counts: '数量',
    countsValue: (c) =>
      `${c.rows} 行，${c.observations} 个报送值（另派生 ${c.derived} 个），${c.submissions} 份报送（其中逾期 ${c.late} 份），${c.warnings} 条警告`,
    versions: '写入的版本',
    version: (institution, period, version, late) =>
      `${institution} ${period} 第 ${version} 版${late ? '（逾期报送）' : ''}`,
    warningsToExplain: '警告（需要说明）',
    warningsExplained: '警告（已附说明）',
    at: (row, column) =>
      row === null ? '' : column === null ? `第 ${row} 行：` : `第 ${row} 行第 ${column} 列：`,
    more: (n) => `……另有 ${n} 项，见回执`,
    explainHow: (url) => `请对上述警告作出说明：POST ${url}`,
    details: '查看回执',
    footer: '此邮件由 RiskWatch 风险监测预警系统自动发送，请勿直接回复。',
    listSeparator: '、',
    paren: (s) => `（${s}）`,
  },
  en: {
    locale: 'en-US',
    subject: (id, file, n, w) =>
      `RiskWatch receipt #${id}: accepted ${file} (${plural(n, 'submission')}, ${plural(w, 'warning')})`,
    summary: (id, file, n, w, link) =>
      `Receipt #${id}: accepted ${file}, ${plural(n, 'submission')}, ${plural(w, 'warning')}. Details: ${link}`,
    heading: (file) => `Upload receipt: accepted ${file}`,
    noFileName: 'JSON data',
    receiptNo: 'Receipt',
    receivedAt: 'Received',
    uploadedBy: 'Uploaded by',
    file: 'File',
    format: 'Format',
    institutions: 'Institutions',
    periods: 'Periods',
    counts: 'Counts',
    countsValue: (c) =>
      `${plural(c.rows, 'row')}, ${plural(c.observations, 'value')} reported (${c.derived} derived), ${plural(c.submissions, 'submission')} (${c.late} late), ${plural(c.warnings, 'warning')}`,
    versions: 'Versions written',
    version: (institution, period, version, late) =>
      `${institution} ${period} version ${version}${late ? ' (filed late)' : ''}`,
    warningsToExplain: 'Warnings (to be explained)',
    warningsExplained: 'Warnings (explained)',
    at: (row, column) =>
      row === null ? '' : column === null ? `row ${row}: ` : `row ${row}, column ${column}: `,
    more: (n) => `… and ${n} more in the receipt`,
    explainHow: (url) => `Please explain these warnings: POST ${url}`,
    details: 'View the receipt',
    footer: 'Sent automatically by RiskWatch, the risk early-warning service. Please do not reply.',
    listSeparator: ', ',
    paren: (s) => ` (${s})`,
  },
};
