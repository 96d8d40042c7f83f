import { describe, expect, it } from 'vitest';
import { previousMonth, type SummaryAlert, summarize } from '../../../src/notify/summary.job.js';
import { renderSummary } from '../../../src/notify/summary.template.js';
import { INSTITUTION, makeRoute } from './notify.fixtures.js';

const PAWN = { code: 'PAWN1', name: '泉州测试典当行', type: 'pawn', county: '晋江市' };
const alert = (overrides: Partial<SummaryAlert>): SummaryAlert => ({
  ruleId: 'npl_ratio_high',
  severity: 'critical',
  institution: INSTITUTION,
  fired: true,
  resolved: false,
  firingAtEnd: true,
  ...overrides,
});

describe(summarize.name, () => {
  const alerts = [
    alert({}),
    alert({ severity: 'warning', fired: true, resolved: true, firingAtEnd: false }),
    alert({ fired: false, firingAtEnd: true }),
    alert({ institution: PAWN, severity: 'warning' }),
    alert({ institution: null, severity: 'info', ruleId: 'region_npl' }),
  ];

  it('counts what the route’s alerts did in the month and names the institutions with most', () => {
    expect(summarize(makeRoute({ name: 'all' }), '2026-10', alerts)).toEqual({
      v: 1,
      lang: 'zh',
      kind: 'summary',
      route: 'all',
      month: '2026-10',
      fired: { critical: 1, warning: 2, info: 1 },
      resolved: 1,
      firing: { critical: 2, warning: 1, info: 1 },
      top: [
        { code: 'QZ001', name: '泉州测试农村商业银行', alerts: 3 },
        { code: 'PAWN1', name: '泉州测试典当行', alerts: 1 },
      ],
    });
  });

  it('counts only the alerts the route matches', () => {
    const pawns = summarize(makeRoute({ name: 'pawn', match: { types: ['pawn'] } }), '2026-10', alerts);
    expect(pawns.fired).toEqual({ critical: 0, warning: 1, info: 0 });
    expect(pawns.top.map((t) => t.code)).toEqual(['PAWN1']);
  });

  it('renders zh and en with the counts in both parts', () => {
    const payload = summarize(makeRoute({ name: 'all' }), '2026-10', alerts);
    const zh = renderSummary(payload, { publicUrl: 'http://rw.test', timeZone: 'Asia/Shanghai' });
    expect(zh.subject).toBe('[月报] 2026-10 预警汇总：新增 4 条，月末仍触发 4 条');
    expect(zh.text).toContain('本月新增：4（1 条严重，2 条警告，1 条提示）');
    expect(zh.html).toContain('泉州测试农村商业银行（QZ001）：3 条');
    const en = renderSummary(
      { ...payload, lang: 'en' },
      { publicUrl: 'http://rw.test', timeZone: 'Asia/Shanghai' },
    );
    expect(en.subject).toBe('[Monthly] Alerts in 2026-10: 4 new, 4 still firing at month end');
    expect(en.text).toContain('Resolved this month: 1');
  });
});

describe(previousMonth.name, () => {
  it.each([
    ['2026-10-08', '2026-09'],
    ['2027-01-04', '2026-12'],
  ])('of %s is %s', (day, month) => expect(previousMonth(day)).toBe(month));
});
