import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type AlertLabels, alertLabels, type LabelledAlert } from '../../../src/alerts/alert.labels.js';
import { inhibitionsFileSchema, loadInhibitions } from '../../../src/alerts/inhibition.file.js';
import {
  type InhibitRule,
  inhibitorsOf,
  matcherMatches,
  parseMatcher,
} from '../../../src/alerts/inhibition.js';
import { parseYaml } from '../../../src/config/yaml-file.js';

const RULES_DIR = path.resolve(import.meta.dirname, '../../../rules');
const FIXTURES = path.resolve(import.meta.dirname, 'fixtures');

const shipped = (() => {
  const loaded = loadInhibitions(RULES_DIR);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.value;
})();

let nextId = 1;
function alert(
  labels: Partial<Parameters<typeof alertLabels>[0]>,
  state: LabelledAlert['state'] = 'firing',
): LabelledAlert {
  return {
    id: nextId++,
    state,
    labels: alertLabels({
      ruleId: 'bank_npl_ratio',
      severity: 'warning',
      metric: 'npl_ratio',
      period: '2024-06',
      institution: 'B1',
      institutionType: 'rural_commercial_bank',
      county: '晋江市',
      ruleKind: 'threshold',
      ...labels,
    }),
  };
}

describe(parseMatcher.name, () => {
  it.each([
    ['severity="critical"', { severity: 'critical' }, true],
    ['severity = critical', { severity: 'critical' }, true],
    ['severity!="critical"', {}, true],
    ['kind=~"missing_.*"', { kind: 'missing_filing' }, true],
    ['kind=~"missing"', { kind: 'missing_filing' }, false],
    ['kind!~"missing_filing|missing_data"', { kind: 'threshold' }, true],
    ['region=""', {}, true],
  ] as const)('%s on %j: %s', (text, labels, matches) => {
    const parsed = parseMatcher(text);
    if (!parsed.ok) throw new Error(parsed.message);
    expect(matcherMatches(parsed.value, labels as AlertLabels)).toBe(matches);
  });

  it.each([
    ['severity', /not a matcher/],
    ['alertname="x"', /unknown label alertname/],
    ['kind=~"("', /invalid regular expression/],
  ])('refuses %s', (text, message) => {
    expect(parseMatcher(text)).toMatchObject({ ok: false, message: expect.stringMatching(message) });
  });
});

describe(inhibitorsOf.name, () => {
  it('lets a critical alert hold back the warning on the same institution and metric only', () => {
    const warning = alert({ ruleId: 'bank_npl_ratio_jump', ruleKind: 'change' });
    const critical = alert({ severity: 'critical' });
    const otherBank = alert({ severity: 'critical', institution: 'B2' });
    const otherMetric = alert({ severity: 'critical', metric: 'provision_coverage_ratio', ruleId: 'x' });
    const pending = alert({ severity: 'critical', ruleId: 'y' }, 'pending');
    expect(inhibitorsOf(warning, shipped, [warning, critical, otherBank, otherMetric, pending])).toEqual([
      critical.id,
    ]);
    expect(inhibitorsOf(critical, shipped, [warning, critical])).toEqual([]);
  });

  it('lets a missing filing hold back the value alerts of that institution and period, not other periods', () => {
    const filing = alert({ ruleId: 'bank_filing', ruleKind: 'missing_filing', metric: 'filing:monthly' });
    const value = alert({});
    const earlier = alert({ period: '2024-05' });
    const missingData = alert({ ruleId: 'bank_npl_missing', ruleKind: 'missing_data' });
    const active = [filing, value, earlier, missingData];
    expect(inhibitorsOf(value, shipped, active)).toEqual([filing.id]);
    expect(inhibitorsOf(earlier, shipped, active)).toEqual([]);
    expect(inhibitorsOf(missingData, shipped, active)).toEqual([]);
    expect(inhibitorsOf(filing, shipped, active)).toEqual([]);
  });

  it('never inhibits through a label in equal that either alert lacks (regional alerts)', () => {
    const regionCritical = alert({
      institution: null,
      institutionType: null,
      county: null,
      region: 'county:晋江市',
      severity: 'critical',
    });
    const regionWarning = alert({
      institution: null,
      institutionType: null,
      county: null,
      region: 'county:南安市',
    });
    expect(inhibitorsOf(regionWarning, shipped, [regionCritical, regionWarning])).toEqual([]);
  });

  it('keeps alerts matching both sides of a rule from inhibiting each other', () => {
    const both: InhibitRule[] = [
      {
        name: 'same-side',
        sourceMatchers: [{ label: 'metric', op: '=', value: 'npl_ratio' }],
        targetMatchers: [{ label: 'metric', op: '=', value: 'npl_ratio' }],
        equal: ['institution'],
      },
    ];
    const a = alert({});
    const b = alert({ ruleId: 'other' });
    expect(inhibitorsOf(a, both, [a, b])).toEqual([]);
  });
});

describe(loadInhibitions.name, () => {
  it('loads the shipped file with its two examples', () => {
    expect(shipped.map((r) => r.name)).toEqual(['critical-mutes-warning', 'missing-filing-mutes-values']);
  });

  it('has no inhibit rules in a folder without the file', () => {
    expect(loadInhibitions(path.join(FIXTURES, 'none'))).toEqual({ ok: true, value: [] });
  });

  it('accepts the good fixture', () => {
    const loaded = loadInhibitions(path.join(FIXTURES, 'good'));
    expect(loaded.ok && loaded.value.map((r) => [r.name, r.equal])).toEqual([
      ['region-critical-mutes-warning', ['region', 'metric']],
    ]);
  });

  it('reports every problem of the bad fixture at once, with file and line', () => {
    const loaded = loadInhibitions(path.join(FIXTURES, 'bad'));
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(
      loaded.problems.map((p) => `${path.basename(p.file)}:${p.line}: ${p.path}: ${p.message}`),
    ).toMatchSnapshot();
  });

  it('parses anchors under x- keys', () => {
    const text =
      'x-sev: &crit \'severity="critical"\'\ninhibit_rules:\n  - name: a\n    source_matchers: [*crit]\n    target_matchers: [\'severity="info"\']\n';
    expect(parseYaml('inhibitions.yaml', text, inhibitionsFileSchema)).toMatchObject({ ok: true });
  });
});
