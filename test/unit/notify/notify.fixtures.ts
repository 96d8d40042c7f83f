import type { ActiveAlert, Transition, TransitionKind } from '../../../src/alerts/alert.types.js';
import type {
  AlertPayload,
  NotificationItem,
  ReceiptPayload,
} from '../../../src/notify/notification.payload.js';
import type { Route } from '../../../src/notify/routes.js';

/** 2026-11-28 10:15 in Quanzhou. */
export const AT = new Date('2026-11-28T02:15:00Z');

/** An NPL-ratio alert on a rural commercial bank in 鲤城区, firing for two periods. */
export function makeAlert(overrides: Partial<ActiveAlert> = {}): ActiveAlert {
  return {
    fingerprint: 'npl_ratio_high/QZ001/npl_ratio',
    ruleId: 'npl_ratio_high',
    institution: 'QZ001',
    metric: 'npl_ratio',
    state: 'firing',
    severity: 'critical',
    value: 5.42,
    threshold: 5,
    period: '2026-10',
    firstPeriod: '2026-09',
    periods: 2,
    submissionId: null,
    summary: { zh: '不良贷款率超过监管上限', en: 'NPL ratio above the regulatory limit' },
    source: '《商业银行风险监管核心指标（试行）》第九条',
    startedAt: AT,
    firedAt: AT,
    ...overrides,
  };
}

export function makeTransition(
  kind: TransitionKind = 'firing',
  alert: Partial<ActiveAlert> = {},
): Transition {
  const to = kind === 'resolved' ? 'resolved' : kind === 'pending' ? 'pending' : 'firing';
  return { kind, from: kind === 'firing' ? 'pending' : 'firing', to, alert: makeAlert(alert), at: AT };
}

export const INSTITUTION = {
  code: 'QZ001',
  name: '泉州测试农村商业银行',
  type: 'rural_commercial_bank',
  county: '鲤城区',
};
export const METRIC = { code: 'npl_ratio', name: { zh: '不良贷款率', en: 'NPL ratio' }, unit: 'percent' };

export function makeItem(overrides: Partial<NotificationItem> = {}): NotificationItem {
  return {
    transition: makeTransition(),
    alertId: 1,
    eventId: 1,
    institution: INSTITUTION,
    metric: METRIC,
    ...overrides,
  };
}

export function makePayload(overrides: Partial<AlertPayload> = {}): AlertPayload {
  return {
    v: 1,
    lang: 'zh',
    alertId: 42,
    eventId: 7,
    kind: 'firing',
    at: AT.toISOString(),
    ruleId: 'npl_ratio_high',
    severity: 'critical',
    institution: INSTITUTION,
    metric: METRIC,
    value: 5.42,
    threshold: 5,
    period: '2026-10',
    firstPeriod: '2026-09',
    periods: 2,
    summary: { zh: '不良贷款率超过监管上限', en: 'NPL ratio above the regulatory limit' },
    source: '《商业银行风险监管核心指标（试行）》第九条',
    ...overrides,
  };
}

/** The receipt of upload 12: two versions of one bank, one of them late, and a warning to explain. */
export function makeReceiptPayload(overrides: Partial<ReceiptPayload['receipt']> = {}): ReceiptPayload {
  return {
    v: 1,
    lang: 'zh',
    kind: 'receipt',
    receipt: {
      upload_id: 12,
      received_at: AT.toISOString(),
      uploaded_by: '晋江农商行报送',
      file_name: '晋江农商行 2026年10月.csv',
      sha256: 'a'.repeat(64),
      format: 'csv-wide',
      counts: { rows: 2, observations: 8, submissions: 2, derived: 4, late: 1, warnings: 1 },
      periods: ['2026-09', '2026-10'],
      institutions: 1,
      submissions: [
        { institution: 'QZ001', period: '2026-09', version: 2, late: true },
        { institution: 'QZ001', period: '2026-10', version: 1, late: false },
      ],
      warnings: [
        {
          code: 'jump_from_previous',
          row: 3,
          column: 4,
          message: 'total_loans 9000 is more than 5× the previous period (1000)',
        },
      ],
      explanation_required: true,
      ...overrides,
    },
  };
}

/** A route as `recipients.yaml` gives it after defaults, with no wait unless told. */
export function makeRoute(overrides: Partial<Route> & Pick<Route, 'name'>): Route {
  return {
    match: {},
    to: [`${overrides.name}@example.gov.cn`],
    lang: 'zh',
    group_by: ['institution'],
    group_wait: 0,
    send_resolved: true,
    reminders: undefined,
    monthly_summary: undefined,
    ...overrides,
  };
}
