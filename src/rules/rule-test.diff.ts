import type { ActiveAlert, Transition } from '../alerts/alert.types.js';
import { filingFrequencyOf } from './rule.filing.js';
import { regionKey, regionOfAlert } from './rule.region-ref.js';
import type { ExpectedAlert, ExpectedTransition } from './rule-test.types.js';

/** One line of a diff: ` ` as expected, `-` expected but not got, `+` got but not expected. */
export interface DiffLine {
  readonly sign: ' ' | '-' | '+';
  readonly text: string;
}

/** A field's value in a rendered line; summaries are a bilingual pair, possibly partial. */
type FieldValue = string | number | { readonly zh?: string | undefined; readonly en?: string | undefined };
/** Fields by their name in the test file, in the order lines show them. */
type Fields = Record<string, FieldValue>;

const ALERT_FIELDS = [
  'rule',
  'institution',
  'region',
  'period',
  'state',
  'severity',
  'value',
  'threshold',
  'first_period',
  'periods',
  'summary',
];
const TRANSITION_FIELDS = ['kind', 'rule', 'institution', 'region', 'period', 'severity', 'value'];

/**
 * Compares the expected active alerts with those got, matched by fingerprint; empty when they agree.
 * Otherwise every alert of either side, sorted by fingerprint: agreeing ones as context, a differing
 * one as `-` expected then `+` got (shown with the fields the expectation gives), an unexpected one
 * as `+` with its rule, institution, period, state, severity, value and (threshold rules) run.
 */
export function diffAlerts(expected: readonly ExpectedAlert[], got: readonly ActiveAlert[]): DiffLine[] {
  return diff(
    expected.map((e) => ({ fingerprint: e.fingerprint, fields: expectedAlertFields(e) })),
    got.map((a) => ({ fingerprint: a.fingerprint, fields: alertFields(a), shown: shownOf(a) })),
    ALERT_FIELDS,
  );
}

/** Compares expected transitions with those got at one step, as {@link diffAlerts} does alerts. */
export function diffTransitions(
  expected: readonly ExpectedTransition[],
  got: readonly Transition[],
): DiffLine[] {
  return diff(
    expected.map((e) => ({ fingerprint: e.fingerprint, fields: expectedTransitionFields(e) })),
    got.map((t) => ({
      fingerprint: t.alert.fingerprint,
      fields: transitionFields(t),
      shown: TRANSITION_FIELDS,
    })),
    TRANSITION_FIELDS,
  );
}

interface Side {
  readonly fingerprint: string;
  readonly fields: Fields;
}

function diff(
  expected: readonly Side[],
  got: readonly (Side & { shown: readonly string[] })[],
  order: readonly string[],
): DiffLine[] {
  const expectedBy = new Map(expected.map((e) => [e.fingerprint, e]));
  const gotBy = new Map(got.map((g) => [g.fingerprint, g]));
  // Code-unit order, independent of the locale, like the evaluator's outputs.
  const keys = [...new Set([...expectedBy.keys(), ...gotBy.keys()])].sort((a, b) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  const lines: DiffLine[] = [];
  let differs = false;
  for (const key of keys) {
    const e = expectedBy.get(key);
    const g = gotBy.get(key);
    if (e && g && agrees(e.fields, g.fields)) {
      lines.push({ sign: ' ', text: render(e.fields, order) });
      continue;
    }
    differs = true;
    if (e) lines.push({ sign: '-', text: render(e.fields, order) });
    if (g) lines.push({ sign: '+', text: render(project(g.fields, e ? e.fields : g.shown), order) });
  }
  return differs ? lines : [];
}

/** Whether every field the expectation gives equals the one got (numbers to 1e-9, relative). */
function agrees(expected: Fields, got: Fields): boolean {
  return Object.entries(expected).every(([name, want]) => {
    const have = got[name];
    if (typeof want === 'number') return typeof have === 'number' && close(want, have);
    if (typeof want === 'string') return want === have;
    if (typeof have !== 'object') return false;
    return (want.zh === undefined || want.zh === have.zh) && (want.en === undefined || want.en === have.en);
  });
}

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

/** The fields of `got` named by `like` (the expectation's own fields, or a list of names). */
function project(got: Fields, like: Fields | readonly string[]): Fields {
  const names = Array.isArray(like) ? like : Object.keys(like);
  const fields: Fields = {};
  for (const name of names) {
    const value = got[name];
    if (value === undefined) continue;
    const wanted = Array.isArray(like) ? undefined : (like as Fields)[name];
    // A partial summary expectation is shown against the same languages.
    fields[name] =
      typeof value === 'object' && typeof wanted === 'object'
        ? {
            ...(wanted.zh !== undefined ? { zh: value.zh } : {}),
            ...(wanted.en !== undefined ? { en: value.en } : {}),
          }
        : value;
  }
  return fields;
}

/** A YAML flow mapping of the fields in `order`, ready to paste into a test file. */
function render(fields: Fields, order: readonly string[]): string {
  const parts = order
    .filter((name) => fields[name] !== undefined)
    .map((name) => `${name}: ${scalar(fields[name])}`);
  return `{ ${parts.join(', ')} }`;
}

function scalar(value: FieldValue | undefined): string {
  if (typeof value === 'number') return String(Number(value.toPrecision(12)));
  if (typeof value === 'string') {
    // Bare where YAML reads it back as the same string; quoted where it would be a number or keyword.
    const bare =
      /^[\p{L}\p{N}][\p{L}\p{N}_.\-/]*$/u.test(value) &&
      !/^[-+]?(\.\d+|\d+(\.\d*)?)([eE][-+]?\d+)?$/.test(value);
    return bare && !/^(true|false|null|yes|no|on|off)$/i.test(value) ? value : JSON.stringify(value);
  }
  if (value === undefined) return '~';
  const parts = (['zh', 'en'] as const)
    .filter((l) => value[l] !== undefined)
    .map((l) => `${l}: ${JSON.stringify(value[l])}`);
  return `{ ${parts.join(', ')} }`;
}

/** Who an alert is about: its institution, or for a regional alert its region (`county:晋江市`). */
function subjectFields(a: ActiveAlert): Fields {
  if (a.institution !== null) return { institution: a.institution };
  const region = regionOfAlert(a);
  return region ? { region: regionKey(region) } : { institution: '*' };
}

function alertFields(a: ActiveAlert): Fields {
  return {
    rule: a.ruleId,
    ...subjectFields(a),
    period: a.period,
    state: a.state,
    severity: a.severity,
    value: a.value,
    threshold: a.threshold,
    first_period: a.firstPeriod,
    periods: a.periods,
    summary: a.summary,
  };
}

/** What an unexpected alert is shown with: a missing filing has no run to speak of. */
function shownOf(a: ActiveAlert): string[] {
  const base = ['rule', 'institution', 'region', 'period', 'state', 'severity', 'value'];
  return filingFrequencyOf(a.metric) ? base : [...base, 'periods'];
}

function transitionFields(t: Transition): Fields {
  return {
    kind: t.kind,
    rule: t.alert.ruleId,
    ...subjectFields(t.alert),
    period: t.alert.period,
    severity: t.alert.severity,
    value: t.alert.value,
  };
}

function expectedAlertFields(e: ExpectedAlert): Fields {
  const fields: Fields = { rule: e.rule, ...expectedSubject(e), state: e.state, severity: e.severity };
  if (e.period !== undefined) fields.period = e.period;
  if (e.value !== undefined) fields.value = e.value;
  if (e.threshold !== undefined) fields.threshold = e.threshold;
  if (e.firstPeriod !== undefined) fields.first_period = e.firstPeriod;
  if (e.periods !== undefined) fields.periods = e.periods;
  if (e.summary !== undefined) fields.summary = e.summary;
  return fields;
}

function expectedTransitionFields(e: ExpectedTransition): Fields {
  const fields: Fields = { kind: e.kind, rule: e.rule, ...expectedSubject(e) };
  if (e.period !== undefined) fields.period = e.period;
  if (e.severity !== undefined) fields.severity = e.severity;
  if (e.value !== undefined) fields.value = e.value;
  return fields;
}

function expectedSubject(e: { institution: string | null; region?: string | undefined }): Fields {
  return e.institution !== null ? { institution: e.institution } : { region: e.region ?? '*' };
}
