import { describe, expect, it } from 'vitest';
import {
  FILING_PLACEHOLDERS,
  formatNumber,
  renderFilingSummary,
  renderSummary,
  renderTemplate,
  unitLabel,
  unknownPlaceholders,
} from '../../../src/rules/rule.template.js';

describe(formatNumber.name, () => {
  it.each([
    [4, '4'],
    [4.5, '4.5'],
    [6.234, '6.23'],
    [6.2, '6.2'],
    [10.999, '11'],
    [-0.001, '0'],
    [-7.126, '-7.13'],
    [1234567.891, '1234567.89'],
  ])('formats %s as %s', (value, text) => {
    expect(formatNumber(value)).toBe(text);
  });
});

describe(unknownPlaceholders.name, () => {
  it('lists the unknown names, tolerating spaces inside the braces', () => {
    expect(unknownPlaceholders('{{ value }}{{unit}} {{valeu}} {{ units }} {single}')).toEqual([
      'valeu',
      'units',
    ]);
  });
});

describe(renderTemplate.name, () => {
  it('throws on an unknown placeholder rather than printing it', () => {
    expect(() => renderTemplate('{{nope}}', {} as never)).toThrow('unknown placeholder {{nope}}');
  });
});

describe(renderSummary.name, () => {
  it('fills both languages with their own metric name, unit and severity word', () => {
    const summary = renderSummary(
      {
        zh: '{{institution_name}}{{metric_name}}{{value}}{{unit}}，{{severity_zh}}线{{threshold}}{{unit}}，连续{{periods}}期自{{first_period}}至{{period}}',
        en: '{{institution}} {{metric}} {{metric_name}} {{value}}{{unit}} ({{severity}} line {{threshold}}{{unit}})',
      },
      {
        institution: 'QZ-FG-01',
        institutionName: '泉州融资担保',
        metric: 'guarantee_leverage',
        metricName: { zh: '融资担保放大倍数', en: 'Financing-guarantee leverage' },
        unit: 'times',
        value: 10.456,
        threshold: 10,
        period: '2024-06',
        firstPeriod: '2024-05',
        periods: 2,
        severity: 'critical',
      },
    );
    expect(summary).toEqual({
      zh: '泉州融资担保融资担保放大倍数10.46倍，严重线10倍，连续2期自2024-05至2024-06',
      en: 'QZ-FG-01 guarantee_leverage Financing-guarantee leverage 10.46x (critical line 10x)',
    });
  });

  it('labels units per language', () => {
    expect([
      unitLabel('percent', 'zh'),
      unitLabel('cny_10k', 'zh'),
      unitLabel('cny_10k', 'en'),
      unitLabel('count', 'en'),
    ]).toEqual(['%', '万元', ' 10k CNY', '']);
  });
});

describe(renderFilingSummary.name, () => {
  it('fills the filing placeholders, naming the frequency in each language', () => {
    const facts = {
      institution: 'QZ-ML-01',
      institutionName: '泉州小额贷款',
      period: '2024-Q2',
      frequency: 'quarterly',
      dueDate: '2024-07-30',
      daysOverdue: 12,
      severity: 'warning',
    } as const;
    expect(
      renderFilingSummary(
        {
          zh: '{{institution_name}}{{period}}{{frequency}}数据，截止{{due_date}}，逾期{{days_overdue}}天（{{severity_zh}}）',
          en: '{{institution}} {{frequency}} {{period}} due {{due_date}}: {{value}} days ({{severity}})',
        },
        facts,
      ),
    ).toEqual({
      zh: '泉州小额贷款2024-Q2季度数据，截止2024-07-30，逾期12天（预警）',
      en: 'QZ-ML-01 quarterly 2024-Q2 due 2024-07-30: 12 days (warning)',
    });
  });

  it('refuses the threshold placeholders', () => {
    expect(unknownPlaceholders('{{metric_name}} {{due_date}} {{threshold}}', FILING_PLACEHOLDERS)).toEqual([
      'metric_name',
      'threshold',
    ]);
    expect(unknownPlaceholders('{{due_date}}')).toEqual(['due_date']);
  });
});
