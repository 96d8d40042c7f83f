import { describe, expect, it } from 'vitest';
import { escapeHtml, renderEmail } from '../../../src/notify/email.template.js';
import { makePayload } from './notify.fixtures.js';

const OPTIONS = { publicUrl: 'https://riskwatch.example.gov.cn/', timeZone: 'Asia/Shanghai' };

describe(renderEmail.name, () => {
  it('renders a firing alert in Chinese by default', () => {
    const mail = renderEmail(makePayload(), 'zh', OPTIONS);
    expect(mail.subject).toBe('[RiskWatch][严重][触发] 泉州测试农村商业银行 — 不良贷款率');
    expect(mail.text).toContain('机构：泉州测试农村商业银行（QZ001），鲤城区');
    expect(mail.text).toContain('指标：不良贷款率（npl_ratio）');
    expect(mail.text).toContain('当前值：5.42%（阈值 5%，相差 +0.42 个百分点）');
    expect(mail.text).toContain('期间：2026-10');
    expect(mail.text).toContain('持续：自 2026-09 起连续 2 期');
    expect(mail.text).toContain('依据：《商业银行风险监管核心指标（试行）》第九条');
    expect(mail.text).toContain('时间：2026-11-28 10:15（Asia/Shanghai）');
    expect(mail.text).toContain('查看预警详情：https://riskwatch.example.gov.cn/api/v1/alerts/42');
    expect(mail.html).toContain('<a href="https://riskwatch.example.gov.cn/api/v1/alerts/42">');
    expect(mail.html).toContain('<html lang="zh-CN">');
  });

  it('renders in English', () => {
    const mail = renderEmail(makePayload({ lang: 'en', kind: 'escalated' }), 'en', OPTIONS);
    expect(mail.subject).toBe('[RiskWatch][Critical][Escalated] 泉州测试农村商业银行 — NPL ratio');
    expect(mail.text).toContain('Institution: 泉州测试农村商业银行 (QZ001), 鲤城区');
    expect(mail.text).toContain('Value: 5.42% (threshold 5%, difference +0.42 percentage points)');
    expect(mail.text).toContain('Duration: 2 consecutive periods since 2026-09');
    expect(mail.text).toContain('Legal basis: 《商业银行风险监管核心指标（试行）》第九条');
    expect(mail.text).toContain('View the alert: https://riskwatch.example.gov.cn/api/v1/alerts/42');
    expect(mail.html).toContain('<html lang="en-US">');
  });

  it.each([
    ['deescalated', 'zh', '[降级]'],
    ['resolved', 'zh', '[解除]'],
    ['deescalated', 'en', '[De-escalated]'],
    ['resolved', 'en', '[Resolved]'],
  ] as const)('names a %s change in the %s subject', (kind, lang, word) => {
    expect(renderEmail(makePayload({ kind }), lang, OPTIONS).subject).toContain(word);
  });

  it('says when a resolved alert ended instead of counting periods', () => {
    const mail = renderEmail(makePayload({ kind: 'resolved', value: 4.1, period: '2026-11' }), 'zh', OPTIONS);
    expect(mail.text).toContain('持续：自 2026-09 起，于 2026-11 解除');
    expect(mail.text).toContain('当前值：4.1%（阈值 5%，相差 -0.9 个百分点）');
  });

  it('shows enough decimals that a narrow breach does not read as equal', () => {
    const mail = renderEmail(makePayload({ value: 5.001 }), 'en', OPTIONS);
    expect(mail.text).toContain('Value: 5.001% (threshold 5%, difference +0.001 percentage points)');
  });

  it('shows balances with grouping and the catalog unit', () => {
    const metric = {
      code: 'npl_balance',
      name: { zh: '不良贷款余额', en: 'Non-performing loans' },
      unit: 'cny_10k',
    };
    const mail = renderEmail(makePayload({ metric, value: 123456.5, threshold: 100000 }), 'zh', OPTIONS);
    expect(mail.text).toContain('当前值：123,456.5 万元（阈值 100,000 万元，相差 +23,456.5 万元）');
  });

  it('shows an unknown unit as written, and no unit as none', () => {
    const metric = (unit: string) => ({ code: 'm', name: { zh: '指标', en: 'Metric' }, unit });
    expect(renderEmail(makePayload({ metric: metric('bp') }), 'en', OPTIONS).text).toContain(
      'Value: 5.42 bp (threshold 5 bp',
    );
    expect(renderEmail(makePayload({ metric: metric('') }), 'en', OPTIONS).text).toContain(
      'Value: 5.42 (threshold 5, difference +0.42)',
    );
  });

  it('names regional alerts as such', () => {
    const mail = renderEmail(makePayload({ institution: null }), 'en', OPTIONS);
    expect(mail.subject).toBe('[RiskWatch][Critical][Firing] Regional aggregate — NPL ratio');
  });

  it('escapes HTML in every value and keeps the subject on one line', () => {
    const institution = {
      code: 'X1',
      name: '<script>alert("x")</script>\r\nBcc: a@b',
      type: 'pawn',
      county: '丰泽区',
    };
    const mail = renderEmail(
      makePayload({ institution, summary: { zh: 'a & b', en: 'a & b' } }),
      'zh',
      OPTIONS,
    );
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;');
    expect(mail.html).toContain('<p>a &#38; b</p>');
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.text).toContain('<script>'); // plain text is not HTML: shown as written
  });

  it('is deterministic', () => {
    expect(renderEmail(makePayload(), 'zh', OPTIONS)).toEqual(renderEmail(makePayload(), 'zh', OPTIONS));
  });
});

describe(`${renderEmail.name}: missing filings`, () => {
  const filing = (overrides: Parameters<typeof makePayload>[0] = {}) =>
    makePayload({
      ruleId: 'bank_monthly_filing_missing',
      severity: 'warning',
      metric: { code: 'filing:monthly', name: { zh: '月度数据报送', en: 'Monthly filing' }, unit: '' },
      value: 3,
      threshold: 0,
      period: '2026-10',
      firstPeriod: '2026-10',
      periods: 1,
      summary: { zh: '2026-10月度数据未按期报送', en: 'Monthly data for 2026-10 not filed' },
      source: '报送要求',
      filing: { frequency: 'monthly', dueDate: '2026-11-15' },
      ...overrides,
    });

  it('says what is missing, when it was due and how many days it is overdue, with no value or threshold', () => {
    const mail = renderEmail(filing(), 'zh', OPTIONS);
    expect(mail.subject).toBe('[RiskWatch][警告][触发] 泉州测试农村商业银行 — 月度数据报送');
    expect(mail.text).toContain('机构：泉州测试农村商业银行（QZ001），鲤城区');
    expect(mail.text).toContain('报送：月度数据报送');
    expect(mail.text).toContain('期间：2026-10');
    expect(mail.text).toContain('截止：2026-11-15 当日结束（Asia/Shanghai）');
    expect(mail.text).toContain('逾期：3 天');
    expect(mail.text).toContain('依据：报送要求');
    expect(mail.text).not.toContain('当前值');
    expect(mail.text).not.toContain('持续');
    expect(mail.html).toContain('<th align="left" style="padding-right:16px;white-space:nowrap">截止</th>');
  });

  it('renders in English, and says how late a resolved filing came', () => {
    const firing = renderEmail(filing({ value: 1 }), 'en', OPTIONS);
    expect(firing.subject).toBe('[RiskWatch][Warning][Firing] 泉州测试农村商业银行 — Monthly filing');
    expect(firing.text).toContain('Filing: Monthly filing');
    expect(firing.text).toContain('Due: end of 2026-11-15 (Asia/Shanghai)');
    expect(firing.text).toContain('Overdue: 1 day\n');
    const resolved = renderEmail(filing({ kind: 'resolved', value: 5 }), 'en', OPTIONS);
    expect(resolved.text).toContain('Overdue: Filed, 5 days late');
    expect(renderEmail(filing({ kind: 'resolved', value: 5 }), 'zh', OPTIONS).text).toContain(
      '逾期：已收到报送，逾期 5 天',
    );
  });

  it('says so when the deadline was no longer known', () => {
    const mail = renderEmail(filing({ filing: { frequency: 'quarterly', dueDate: null } }), 'en', OPTIONS);
    expect(mail.text).toContain('Due: unknown (the deadline is no longer configured)');
  });
});

describe(escapeHtml.name, () => {
  it('escapes the five significant characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#60;/a&#62;',
    );
  });
});
