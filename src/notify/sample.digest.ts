import { threadOf } from './notification.group.js';
import type { AlertPayload, DigestPayload } from './notification.payload.js';
import type { Lang } from './routes.js';

/**
 * A made-up digest for `notify test`: two alerts on two institutions, one resolved, as a supervisor
 * would get them, so that checking the SMTP settings also shows what the e-mails look like.
 */
export function sampleDigest(lang: Lang, now: Date): DigestPayload {
  const at = now.toISOString();
  const base = {
    v: 1 as const,
    lang,
    at,
    source: '《商业银行风险监管核心指标（试行）》第九条：不良贷款率不得高于 5%',
    summary: { zh: '【测试】不良贷款率超过监管上限', en: '[Test] NPL ratio above the regulatory limit' },
    metric: { code: 'npl_ratio', name: { zh: '不良贷款率', en: 'NPL ratio' }, unit: 'percent' },
    ruleId: 'bank_npl_ratio_high',
  };
  const alerts: AlertPayload[] = [
    {
      ...base,
      alertId: 0,
      eventId: 0,
      kind: 'firing',
      severity: 'critical',
      institution: {
        code: 'TEST01',
        name: '测试农村商业银行',
        type: 'rural_commercial_bank',
        county: '鲤城区',
      },
      value: 5.42,
      threshold: 5,
      margin: 0.42,
      period: '2026-10',
      firstPeriod: '2026-09',
      periods: 2,
    },
    {
      ...base,
      alertId: 0,
      eventId: 0,
      kind: 'resolved',
      severity: 'warning',
      institution: { code: 'TEST02', name: '测试村镇银行', type: 'village_bank', county: '晋江市' },
      value: 3.9,
      threshold: 4,
      period: '2026-10',
      firstPeriod: '2026-08',
      periods: 2,
    },
  ];
  return {
    v: 1,
    lang,
    kind: 'digest',
    mode: 'changes',
    route: 'test',
    group: 'test',
    thread: threadOf('test', alerts),
    at,
    alerts,
  };
}
