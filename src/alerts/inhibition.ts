import { ALERT_LABELS, type AlertLabel, type AlertLabels, type LabelledAlert } from './alert.labels.js';

/** Matcher operators, as Alertmanager writes them: equal, not equal, regex match, regex non-match. */
export const MATCHER_OPS = ['=', '!=', '=~', '!~'] as const;
export type MatcherOp = (typeof MATCHER_OPS)[number];

/** One label matcher, e.g. `severity="critical"`; a label the alert lacks reads as `""`. */
export interface LabelMatcher {
  readonly label: AlertLabel;
  readonly op: MatcherOp;
  readonly value: string;
  /** For `=~`/`!~`: the value anchored at both ends, as Alertmanager anchors it. */
  readonly regex?: RegExp;
}

/**
 * An inhibit rule, as Alertmanager's `inhibit_rules`: while an alert matching every source matcher
 * fires, notifications of alerts matching every target matcher are held back, when both carry the
 * same value for each label in `equal`.
 */
export interface InhibitRule {
  readonly name: string;
  readonly sourceMatchers: readonly LabelMatcher[];
  readonly targetMatchers: readonly LabelMatcher[];
  readonly equal: readonly AlertLabel[];
}

const MATCHER = /^\s*([a-z_]+)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|([^"\s]*))\s*$/;

/**
 * Parses a matcher written as Alertmanager writes it: `label="value"`, `label!="value"`,
 * `label=~"regex"`, `label!~"regex"` (quotes optional for a value without spaces).
 * @returns the matcher, or a message saying what is wrong.
 */
export function parseMatcher(
  text: string,
): { ok: true; value: LabelMatcher } | { ok: false; message: string } {
  const m = MATCHER.exec(text);
  if (!m)
    return { ok: false, message: `${JSON.stringify(text)} is not a matcher such as severity="critical"` };
  const [, label = '', op = '=', quoted, plain] = m;
  if (!(ALERT_LABELS as readonly string[]).includes(label)) {
    return { ok: false, message: `unknown label ${label}; labels are ${ALERT_LABELS.join(', ')}` };
  }
  const value = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : (plain ?? '');
  const matcher = { label: label as AlertLabel, op: op as MatcherOp, value };
  if (op !== '=~' && op !== '!~') return { ok: true, value: matcher };
  try {
    return { ok: true, value: { ...matcher, regex: new RegExp(`^(?:${value})$`, 'u') } };
  } catch (error) {
    return { ok: false, message: `invalid regular expression: ${(error as Error).message}` };
  }
}

/** Whether a label set satisfies a matcher. */
export function matcherMatches(matcher: LabelMatcher, labels: AlertLabels): boolean {
  const actual = labels[matcher.label] ?? '';
  switch (matcher.op) {
    case '=':
      return actual === matcher.value;
    case '!=':
      return actual !== matcher.value;
    case '=~':
      return matcher.regex?.test(actual) ?? false;
    case '!~':
      return !(matcher.regex?.test(actual) ?? false);
  }
}

function allMatch(matchers: readonly LabelMatcher[], labels: AlertLabels): boolean {
  return matchers.every((m) => matcherMatches(m, labels));
}

/**
 * The ids of the firing alerts that inhibit `target` under `rules`, ascending. Only firing alerts
 * inhibit (a pending one has told nobody anything yet). Unlike Alertmanager, a label in `equal` must be
 * present on both alerts: a regional alert (no institution) never inhibits another region's through
 * `equal: [institution]`. As in Alertmanager, an alert matching both sides of a rule is not inhibited by
 * alerts that do too, so such a rule cannot make two alerts silence each other (or one itself).
 */
export function inhibitorsOf(
  target: LabelledAlert,
  rules: readonly InhibitRule[],
  activeAlerts: readonly LabelledAlert[],
): number[] {
  const by = new Set<number>();
  for (const rule of rules) {
    if (!allMatch(rule.targetMatchers, target.labels)) continue;
    const targetIsSource = allMatch(rule.sourceMatchers, target.labels);
    for (const source of activeAlerts) {
      if (source.id === target.id || source.state !== 'firing') continue;
      if (!allMatch(rule.sourceMatchers, source.labels)) continue;
      if (targetIsSource && allMatch(rule.targetMatchers, source.labels)) continue;
      const equal = rule.equal.every((label) => {
        const value = target.labels[label];
        return value !== undefined && value === source.labels[label];
      });
      if (equal) by.add(source.id);
    }
  }
  return [...by].sort((a, b) => a - b);
}

/** Whether every inhibit rule's `equal` names `label`: sources then share the target's value of it. */
export function inhibitionsNeedSame(rules: readonly InhibitRule[], label: AlertLabel): boolean {
  return rules.every((r) => r.equal.includes(label));
}
