import { describe, expect, it } from 'vitest';
import { alertLabels } from '../../../src/alerts/alert.labels.js';
import {
  type Silence,
  silenceMatches,
  silenceState,
  silencesOf,
  validateSilence,
} from '../../../src/alerts/silence.js';

const t = (day: number, hour = 0) => new Date(Date.UTC(2024, 6, day, hour));
const bankAlert = alertLabels({
  ruleId: 'bank_npl_ratio',
  severity: 'warning',
  metric: 'npl_ratio',
  period: '2024-06',
  institution: 'B1',
  institutionType: 'rural_commercial_bank',
  county: '晋江市',
  ruleKind: 'threshold',
});
const regionAlert = alertLabels({
  ruleId: 'bank_npl_region',
  severity: 'warning',
  metric: 'npl_ratio',
  period: '2024-06',
  institution: null,
  region: 'county:晋江市',
});

function silence(overrides: Partial<Silence> = {}): Silence {
  return {
    id: 1,
    ruleId: null,
    institution: null,
    institutionType: null,
    county: null,
    severity: null,
    startsAt: t(1),
    endsAt: t(10),
    createdBy: 'li',
    reason: 'restructuring',
    createdAt: t(1),
    expiredAt: null,
    expiredBy: null,
    ...overrides,
  };
}

describe(silenceState.name, () => {
  it.each([
    [t(0), 'pending'],
    [t(1), 'active'],
    [t(9, 23), 'active'],
    [t(10), 'expired'],
  ] as const)('at %s a silence from the 1st to the 10th is %s', (at, state) => {
    expect(silenceState(silence(), at)).toBe(state);
  });

  it('ends when expired by hand, before its end', () => {
    const expired = silence({ expiredAt: t(5), expiredBy: 'wang' });
    expect(silenceState(expired, t(4))).toBe('active');
    expect(silenceState(expired, t(5))).toBe('expired');
  });
});

describe(silenceMatches.name, () => {
  it('matches when every matcher given equals the label', () => {
    expect(silenceMatches(silence({ institution: 'B1' }), bankAlert)).toBe(true);
    expect(silenceMatches(silence({ institution: 'B1', severity: 'critical' }), bankAlert)).toBe(false);
    expect(
      silenceMatches(silence({ county: '晋江市', institutionType: 'rural_commercial_bank' }), bankAlert),
    ).toBe(true);
    expect(silenceMatches(silence({ ruleId: 'bank_npl_ratio_jump' }), bankAlert)).toBe(false);
  });

  it('never matches a regional alert by institution, type or county, which it does not carry', () => {
    expect(silenceMatches(silence({ county: '晋江市' }), regionAlert)).toBe(false);
    expect(silenceMatches(silence({ ruleId: 'bank_npl_region' }), regionAlert)).toBe(true);
  });
});

describe(silencesOf.name, () => {
  it('lists the active matching silences, ascending', () => {
    const silences = [
      silence({ id: 3, institution: 'B1' }),
      silence({ id: 2, severity: 'warning' }),
      silence({ id: 4, institution: 'B2' }),
      silence({ id: 5, institution: 'B1', startsAt: t(6) }),
    ];
    expect(silencesOf(bankAlert, silences, t(2))).toEqual([2, 3]);
    expect(silencesOf(bankAlert, silences, t(7))).toEqual([2, 3, 5]);
    expect(silencesOf(bankAlert, silences, t(11))).toEqual([]);
  });
});

describe(validateSilence.name, () => {
  const now = t(5);
  it('completes a valid silence: a start in the past or none is now, text trimmed', () => {
    expect(
      validateSilence(
        { institution: ' B1 ', endsAt: t(6), createdBy: 'li', reason: ' merger ', startsAt: t(1) },
        now,
      ),
    ).toEqual({
      ok: true,
      value: {
        ruleId: null,
        institution: 'B1',
        institutionType: null,
        county: null,
        severity: null,
        startsAt: now,
        endsAt: t(6),
        createdBy: 'li',
        reason: 'merger',
      },
    });
  });

  it('reports every problem at once', () => {
    const result = validateSilence({ severity: 'fatal', endsAt: t(4), createdBy: ' ', reason: '' }, now);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.code)).toEqual([
      'unknown_severity',
      'silence_ends_in_past',
      'reason_required',
      'author_required',
    ]);
  });

  it('needs a matcher, an end after the start and at most a year', () => {
    const codes = (input: Parameters<typeof validateSilence>[0]) => {
      const r = validateSilence(input, now);
      return r.ok ? [] : r.problems.map((p) => p.code);
    };
    expect(codes({ endsAt: t(6), createdBy: 'li', reason: 'x', ruleId: '  ' })).toEqual([
      'silence_matches_everything',
    ]);
    expect(codes({ county: '晋江市', startsAt: t(8), endsAt: t(7), createdBy: 'li', reason: 'x' })).toEqual([
      'silence_ends_before_start',
    ]);
    expect(
      codes({ county: '晋江市', endsAt: new Date(Date.UTC(2025, 7, 1)), createdBy: 'li', reason: 'x' }),
    ).toEqual(['silence_too_long']);
  });
});
