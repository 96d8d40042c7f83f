import { formatPeriod, parsePeriod, periodOrdinal, shiftPeriod } from '../catalog/period.js';

/**
 * The compact notations of rule test files, in the spirit of promtool's expanding notation but
 * counted in reporting periods. Pure text → values; what the periods and steps mean is the
 * runner's business (docs/rules.md, "Testing rules").
 */

/** A step of a test's timeline as written: a period (evaluated at its filing deadline) or a day. */
export type StepRef =
  | { readonly kind: 'period'; readonly period: string }
  | { readonly kind: 'day'; readonly day: string };

/** A notation's result: the value, or where in the text (0-based offset) it went wrong and why. */
export type NotationResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly offset: number; readonly message: string };

/** One period's value in a series: its index from the series' start, `null` when missing. */
export interface SeriesPoint {
  readonly index: number;
  readonly value: number | null;
  /** The step the value arrives at, when later than its own period (`4.8@2024-05`). */
  readonly arrives?: StepRef;
  /** Where the token that wrote it starts in the text. */
  readonly offset: number;
}

/** One period in a list of filings, and the step it arrives at when late. */
export interface PeriodEntry {
  readonly period: string;
  readonly arrives?: StepRef;
  readonly offset: number;
}

/** The most periods one token may expand to: 50 years of months. */
export const MAX_EXPANSION = 600;

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const NUMBER = String.raw`[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?`;
const UNSIGNED = String.raw`(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?`;
/** `V`, `VxN`, `A+BxN`, `A-BxN`; an increment without a count is caught after matching. */
const VALUE = new RegExp(`^(${NUMBER})(?:([+-])(${UNSIGNED}))?(?:x(\\d+))?$`);
const MISSING = /^_(?:x(\d+))?$/;
const RANGE = /^(.+?)\.\.(.+)$/;

/** A calendar day `YYYY-MM-DD` (years 1900–2999, as periods), or `undefined`. */
export function parseDay(text: string): string | undefined {
  const m = DAY.exec(text);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < 1900 || year > 2999) return undefined;
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.toISOString().slice(0, 10) === text ? text : undefined;
}

/** A step as written in `at:` or after `@`: a period or a day, or `undefined`. */
export function parseStepRef(text: string): StepRef | undefined {
  const period = parsePeriod(text);
  if (period) return { kind: 'period', period: formatPeriod(period) };
  const day = parseDay(text);
  return day ? { kind: 'day', day } : undefined;
}

/** The text of a step, as written. */
export function stepText(ref: StepRef): string {
  return ref.kind === 'period' ? ref.period : ref.day;
}

/**
 * Parses a series' values, whitespace-separated, one or more periods per token:
 * `3.5` a value; `_` a missing period; `4.2x3` the same value for 3 periods; `_x2` 2 missing periods;
 * `4+0.5x3` 3 values from 4 in steps of 0.5 (4 4.5 5), `5-0.5x3` downwards. Any value token may end in
 * `@<period or day>`: its values arrive at that step rather than at their own period's.
 */
export function parseSeriesValues(text: string): NotationResult<SeriesPoint[]> {
  const points: SeriesPoint[] = [];
  for (const { token, offset } of tokens(text)) {
    const at = token.indexOf('@');
    const body = at < 0 ? token : token.slice(0, at);
    let arrives: StepRef | undefined;
    if (at >= 0) {
      const ref = token.slice(at + 1);
      arrives = parseStepRef(ref);
      if (!arrives) return fail(offset + at + 1, notAStep(ref));
    }
    const missing = MISSING.exec(body);
    if (missing) {
      if (arrives) return fail(offset, `a missing period arrives at no step: drop "@${token.slice(at + 1)}"`);
      const count = countOf(missing[1], offset);
      if (!count.ok) return count;
      for (let i = 0; i < count.value; i++) points.push({ index: points.length, value: null, offset });
      continue;
    }
    const m = VALUE.exec(body);
    if (!m) {
      return fail(
        offset,
        `"${body}" is not a value: write a number, _ for a missing period, VxN, A+BxN, A-BxN or _xN`,
      );
    }
    const [, first = '', sign, step, countText] = m;
    if (sign && countText === undefined)
      return fail(offset, `"${body}" has an increment but no count: write ${body}x<periods>`);
    const count = countOf(countText, offset);
    if (!count.ok) return count;
    const start = Number(first);
    const increment = step === undefined ? 0 : (sign === '-' ? -1 : 1) * Number(step);
    const decimals = Math.max(decimalsOf(first), step === undefined ? 0 : decimalsOf(step));
    for (let i = 0; i < count.value; i++) {
      // A computed value is rounded to the decimals written, so 1+0.1x3 gives 1.2, not 1.2000000000000002;
      // a value as written is kept as it is.
      const exact = start + i * increment;
      const value =
        i === 0 || increment === 0
          ? start
          : Number.isNaN(decimals)
            ? Number(exact.toPrecision(15))
            : Number(exact.toFixed(decimals));
      points.push({ index: points.length, value, offset, ...(arrives ? { arrives } : {}) });
    }
  }
  if (points.length === 0) return fail(0, 'no values: write at least one value or _');
  if (points.length > MAX_EXPANSION * 2) return fail(0, `more than ${MAX_EXPANSION * 2} periods`);
  return { ok: true, value: points };
}

/**
 * Parses a list of periods, whitespace-separated: `2024-01`, a range `2024-01..2024-06` (both ends
 * included, one frequency), each optionally followed by `@<period or day>` when filed late.
 */
export function parsePeriodList(text: string): NotationResult<PeriodEntry[]> {
  const entries: PeriodEntry[] = [];
  for (const { token, offset } of tokens(text)) {
    const at = token.indexOf('@');
    const body = at < 0 ? token : token.slice(0, at);
    let arrives: StepRef | undefined;
    if (at >= 0) {
      const ref = token.slice(at + 1);
      arrives = parseStepRef(ref);
      if (!arrives) return fail(offset + at + 1, notAStep(ref));
    }
    const range = RANGE.exec(body);
    const fromText = range ? (range[1] ?? '') : body;
    const toText = range ? (range[2] ?? '') : body;
    const from = parsePeriod(fromText);
    if (!from) return fail(offset, notAPeriod(fromText));
    const to = parsePeriod(toText);
    if (!to) return fail(offset + body.length - toText.length, notAPeriod(toText));
    if (to.frequency !== from.frequency)
      return fail(offset, `${body}: a range runs over periods of one frequency`);
    const count = periodOrdinal(to) - periodOrdinal(from) + 1;
    if (count < 1) return fail(offset, `${body}: the range ends before it starts`);
    if (count > MAX_EXPANSION) return fail(offset, `${body}: more than ${MAX_EXPANSION} periods`);
    for (let i = 0; i < count; i++) {
      entries.push({ period: formatPeriod(shiftPeriod(from, i)), offset, ...(arrives ? { arrives } : {}) });
    }
  }
  if (entries.length === 0) return fail(0, 'no periods: write at least one period such as 2024-06');
  return { ok: true, value: entries };
}

/** Whitespace-separated tokens and where each starts. */
function tokens(text: string): { token: string; offset: number }[] {
  return [...text.matchAll(/\S+/g)].map((m) => ({ token: m[0], offset: m.index }));
}

function countOf(text: string | undefined, offset: number): NotationResult<number> {
  if (text === undefined) return { ok: true, value: 1 };
  const count = Number(text);
  if (count < 1) return fail(offset, `x${text}: a count must be at least 1`);
  if (count > MAX_EXPANSION) return fail(offset, `x${text}: at most ${MAX_EXPANSION} periods in one token`);
  return { ok: true, value: count };
}

/** Digits after the decimal point as written; NaN with an exponent, where only precision helps. */
function decimalsOf(text: string): number {
  if (/e/i.test(text)) return Number.NaN;
  const point = text.indexOf('.');
  return point < 0 ? 0 : text.length - point - 1;
}

function notAStep(text: string): string {
  return `"${text}" is neither a period (2024-06, 2024-Q2) nor a day (2024-07-20)`;
}

function notAPeriod(text: string): string {
  return `"${text}" is not a period such as 2024-06 or 2024-Q2`;
}

function fail(offset: number, message: string): { ok: false; offset: number; message: string } {
  return { ok: false, offset, message };
}
