import { describe, expect, it } from 'vitest';
import { alertLabels, type LabelledAlert } from '../../../src/alerts/alert.labels.js';
import type { InhibitRule } from '../../../src/alerts/inhibition.js';
import type { Silence } from '../../../src/alerts/silence.js';
import { isSuppressed, suppressionOf } from '../../../src/alerts/suppression.js';

const t = (day: number) => new Date(Date.UTC(2024, 6, day));
const labelled = (id: number, severity: string, state: LabelledAlert['state'] = 'firing'): LabelledAlert => ({
  id,
  state,
  labels: alertLabels({
    ruleId: `r${id}`,
    severity,
    metric: 'npl_ratio',
    period: '2024-06',
    institution: 'B1',
  }),
});
const silence: Silence = {
  id: 9,
  ruleId: null,
  institution: 'B1',
  institutionType: null,
  county: null,
  severity: 'warning',
  startsAt: t(1),
  endsAt: t(5),
  createdBy: 'li',
  reason: 'x',
  createdAt: t(1),
  expiredAt: null,
  expiredBy: null,
};
const criticalMutesWarning: InhibitRule = {
  name: 'c',
  sourceMatchers: [{ label: 'severity', op: '=', value: 'critical' }],
  targetMatchers: [{ label: 'severity', op: '=', value: 'warning' }],
  equal: ['institution', 'metric'],
};

describe(suppressionOf.name, () => {
  const warning = labelled(1, 'warning');
  const critical = labelled(2, 'critical');
  const context = {
    silences: [silence],
    inhibitions: [criticalMutesWarning],
    activeAlerts: [warning, critical],
  };

  it.each([
    ['silenced and inhibited while both hold', warning, t(2), { silencedBy: [9], inhibitedBy: [2] }],
    ['inhibited only once the silence ended', warning, t(5), { inhibitedBy: [2] }],
    ['neither, for the critical alert itself', critical, t(2), {}],
    [
      'silenced while resolving (a resolved alert is still matched)',
      labelled(1, 'warning', 'resolved'),
      t(3),
      { silencedBy: [9], inhibitedBy: [2] },
    ],
  ] as const)('%s', (_what, alert, at, expected) => {
    const suppression = suppressionOf(alert, { ...context, at });
    expect(suppression).toEqual(expected);
    expect(isSuppressed(suppression)).toBe(Object.keys(expected).length > 0);
  });

  it('is not inhibited by a critical alert that is only pending', () => {
    expect(
      suppressionOf(warning, { ...context, activeAlerts: [labelled(2, 'critical', 'pending')], at: t(6) }),
    ).toEqual({});
  });
});
