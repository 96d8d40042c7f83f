/** Reporting frequency of a metric, and so of the periods it is reported for. */
export const FREQUENCIES = ['monthly', 'quarterly'] as const;
export type Frequency = (typeof FREQUENCIES)[number];

/** A reporting period: `2024-06` (monthly) or `2024-Q2` (quarterly). */
export interface Period {
  readonly year: number;
  readonly frequency: Frequency;
  /** Month 1–12 or quarter 1–4. */
  readonly index: number;
}

const MONTHLY = /^(\d{4})-(0[1-9]|1[0-2])$/;
const QUARTERLY = /^(\d{4})-Q([1-4])$/;

// Evaluations parse the same few dozen period texts hundreds of thousands of times: parsed once each.
// Periods are immutable, so sharing them is safe; the cache is bounded against arbitrary input.
const parsed = new Map<string, Period | undefined>();
const PARSED_KEPT = 10_000;

/** Parses `2024-06` or `2024-Q2`; returns `undefined` for anything else (years 1900–2999). */
export function parsePeriod(text: string): Period | undefined {
  if (parsed.has(text)) return parsed.get(text);
  const period = parseUncached(text);
  if (parsed.size >= PARSED_KEPT) parsed.clear();
  parsed.set(text, period && Object.freeze(period));
  return period;
}

function parseUncached(text: string): Period | undefined {
  const m = MONTHLY.exec(text);
  const q = m ? undefined : QUARTERLY.exec(text);
  const match = m ?? q;
  if (!match) return undefined;
  const year = Number(match[1]);
  if (year < 1900 || year > 2999) return undefined;
  return { year, frequency: m ? 'monthly' : 'quarterly', index: Number(match[2]) };
}

/** The canonical text of a period. */
export function formatPeriod(p: Period): string {
  return p.frequency === 'monthly'
    ? `${p.year}-${String(p.index).padStart(2, '0')}`
    : `${p.year}-Q${p.index}`;
}

/** A number that grows by one from each period to the next of the same frequency. */
export function periodOrdinal(p: Period): number {
  return p.year * (p.frequency === 'monthly' ? 12 : 4) + (p.index - 1);
}

/** The period `n` steps after `p` (negative `n` goes back). */
export function shiftPeriod(p: Period, n: number): Period {
  const perYear = p.frequency === 'monthly' ? 12 : 4;
  const ordinal = periodOrdinal(p) + n;
  return { year: Math.floor(ordinal / perYear), frequency: p.frequency, index: (ordinal % perYear) + 1 };
}

/** Shifts a period given as text; throws on text that is not a period. */
export function shiftPeriodText(text: string, n: number): string {
  return formatPeriod(shiftPeriod(mustParsePeriod(text), n));
}

/** Parses a period known to be valid (from the database or an already validated input). */
export function mustParsePeriod(text: string): Period {
  const p = parsePeriod(text);
  if (!p) throw new Error(`Not a period: ${JSON.stringify(text)}`);
  return p;
}

/** Compares two period texts of the same frequency chronologically. */
export function comparePeriods(a: string, b: string): number {
  return periodOrdinal(mustParsePeriod(a)) - periodOrdinal(mustParsePeriod(b));
}

/** The first and last calendar day of a period, as `YYYY-MM-DD`. */
export function periodBounds(p: Period): { start: string; end: string } {
  const firstMonth = p.frequency === 'monthly' ? p.index : (p.index - 1) * 3 + 1;
  const lastMonth = p.frequency === 'monthly' ? p.index : p.index * 3;
  const lastDay = new Date(Date.UTC(p.year, lastMonth, 0)).getUTCDate();
  const mm = (n: number) => String(n).padStart(2, '0');
  return { start: `${p.year}-${mm(firstMonth)}-01`, end: `${p.year}-${mm(lastMonth)}-${mm(lastDay)}` };
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * The period of `frequency` containing a calendar day given as `YYYY-MM-DD`.
 * @throws on text that is not a valid calendar day.
 */
export function periodContaining(date: string, frequency: Frequency): Period {
  const m = DATE.exec(date);
  const year = Number(m?.[1]);
  const month = Number(m?.[2]);
  const day = Number(m?.[3]);
  const valid =
    m && month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (!valid) throw new Error(`Not a calendar day: ${JSON.stringify(date)}`);
  return { year, frequency, index: frequency === 'monthly' ? month : Math.ceil(month / 3) };
}
