import type { Severity } from '../alerts/alert.types.js';
import type { Lang } from './routes.js';

/** The fixed wording of digests, reminders and monthly summaries, per language. */
export interface DigestStrings {
  /** `[严重] 3 条预警`: the subject's start for alert changes. */
  readonly changes: (severity: string, active: number, resolved: number) => string;
  readonly resolvedOnly: (resolved: number) => string;
  readonly reminder: (severity: string, n: number) => string;
  /** `泉州农商行 等 2 家机构`. */
  readonly who: (first: string, count: number) => string;
  readonly heading: (mode: 'changes' | 'reminder') => string;
  readonly intro: (active: number, resolved: number) => string;
  readonly reminderIntro: (n: number) => string;
  readonly firingSince: string;
  readonly resolvedSection: string;
  readonly activeSection: string;
  readonly separator: string;
  readonly summarySubject: (month: string, fired: number, firing: number) => string;
  readonly summaryHeading: (month: string) => string;
  readonly fired: string;
  readonly resolved: string;
  readonly firingAtEnd: string;
  readonly bySeverity: (
    counts: Readonly<Record<Severity, number>>,
    names: Readonly<Record<Severity, string>>,
  ) => string;
  readonly top: string;
  readonly topItem: (name: string, code: string, n: number) => string;
  readonly none: string;
  readonly listLink: string;
}

export const DIGEST_STRINGS: Readonly<Record<Lang, DigestStrings>> = {
  zh: {
    changes: (severity, active, resolved) =>
      `[${severity}] ${active} 条预警${resolved > 0 ? `，${resolved} 条解除` : ''}`,
    resolvedOnly: (resolved) => `[已解除] ${resolved} 条预警解除`,
    reminder: (severity, n) => `[提醒][${severity}] ${n} 条预警未确认`,
    who: (first, count) => (count > 1 ? `${first} 等 ${count} 家机构` : first),
    heading: (mode) => (mode === 'reminder' ? '未确认预警提醒' : '预警通知'),
    intro: (active, resolved) =>
      `${[active > 0 ? `${active} 条预警触发或变化` : '', resolved > 0 ? `${resolved} 条预警解除` : '']
        .filter(Boolean)
        .join('，')}。`,
    reminderIntro: (n) => `以下 ${n} 条预警仍在触发且尚未确认，请及时处理。`,
    firingSince: '触发于',
    resolvedSection: '已解除',
    activeSection: '预警',
    separator: '：',
    summarySubject: (month, fired, firing) =>
      `[月报] ${month} 预警汇总：新增 ${fired} 条，月末仍触发 ${firing} 条`,
    summaryHeading: (month) => `${month} 预警月度汇总`,
    fired: '本月新增',
    resolved: '本月解除',
    firingAtEnd: '月末仍触发',
    bySeverity: (c, names) =>
      `${c.critical} 条${names.critical}，${c.warning} 条${names.warning}，${c.info} 条${names.info}`,
    top: '预警最多的机构',
    topItem: (name, code, n) => `${name}（${code}）：${n} 条`,
    none: '无',
    listLink: '查看当前预警',
  },
  en: {
    changes: (severity, active, resolved) =>
      `[${severity}] ${active} alert${active === 1 ? '' : 's'}${resolved > 0 ? `, ${resolved} resolved` : ''}`,
    resolvedOnly: (resolved) => `[Resolved] ${resolved} alert${resolved === 1 ? '' : 's'} resolved`,
    reminder: (severity, n) => `[Reminder][${severity}] ${n} unacknowledged alert${n === 1 ? '' : 's'}`,
    who: (first, count) =>
      count > 1 ? `${first} and ${count - 1} other institution${count === 2 ? '' : 's'}` : first,
    heading: (mode) => (mode === 'reminder' ? 'Unacknowledged alerts' : 'Alert notification'),
    intro: (active, resolved) =>
      `${[
        active > 0 ? `${active} alert${active === 1 ? '' : 's'} fired or changed` : '',
        resolved > 0 ? `${resolved} resolved` : '',
      ]
        .filter(Boolean)
        .join(', ')}.`,
    reminderIntro: (n) =>
      `${n} alert${n === 1 ? ' is' : 's are'} still firing and nobody has acknowledged ${n === 1 ? 'it' : 'them'}.`,
    firingSince: 'Firing since',
    resolvedSection: 'Resolved',
    activeSection: 'Alerts',
    separator: ': ',
    summarySubject: (month, fired, firing) =>
      `[Monthly] Alerts in ${month}: ${fired} new, ${firing} still firing at month end`,
    summaryHeading: (month) => `Monthly alert summary, ${month}`,
    fired: 'New this month',
    resolved: 'Resolved this month',
    firingAtEnd: 'Still firing at month end',
    bySeverity: (c, names) =>
      `${c.critical} ${names.critical.toLowerCase()}, ${c.warning} ${names.warning.toLowerCase()}, ${c.info} ${names.info.toLowerCase()}`,
    top: 'Institutions with the most alerts',
    topItem: (name, code, n) => `${name} (${code}): ${n}`,
    none: 'none',
    listLink: 'View the alerts firing now',
  },
};
