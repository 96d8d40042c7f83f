import { periodLastDay } from '../catalog/calendar.js';
import { type Period, parsePeriod } from '../catalog/period.js';

/** Reading what people type into cells: numbers and periods. */

const PLAIN_DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Parses a plain decimal, or explains why the text is not one (with a hint for common spreadsheet forms). */
export function parseDecimal(text: string): { ok: true; value: number } | { ok: false; message: string } {
  const t = text.trim();
  if (t === '') return { ok: false, message: 'The value is empty' };
  if (PLAIN_DECIMAL.test(t)) {
    const value = Number(t);
    return Number.isFinite(value) ? { ok: true, value } : { ok: false, message: `${t} is too large` };
  }
  if (/^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$/.test(t)) {
    return { ok: false, message: `${t} has thousands separators; write ${t.replaceAll(',', '')}` };
  }
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)\s*%$/.test(t)) {
    return {
      ok: false,
      message: `${t} has a percent sign; percent metrics are written as numbers, e.g. ${t.replace(/\s*%$/, '')}`,
    };
  }
  return { ok: false, message: `${JSON.stringify(t)} is not a number` };
}

const CHINESE_QUARTERS: Record<string, number> = {
  一: 1,
  二: 2,
  三: 3,
  四: 4,
  '1': 1,
  '2': 2,
  '3': 3,
  '4': 4,
};

/**
 * Reads a period as people write it: `2024-06` and `2024-Q2`, and also `202406`, `2024年6月`,
 * `2024Q2`, `2024年第二季度`, and a date that starts or ends a month (`2024-06-30`, the report date
 * regulatory forms print; `2024-06-01`, what Excel makes of a typed 2024-06).
 */
export function readPeriod(text: string): Period | undefined {
  const exact = parsePeriod(text);
  if (exact) return exact;
  const month = (year: string, m: string) => parsePeriod(`${year}-${m.padStart(2, '0')}`);
  let match = /^(\d{4})(\d{2})$/.exec(text) ?? /^(\d{4})\s*年\s*(\d{1,2})\s*月(?:末|份)?$/.exec(text);
  if (match) return month(match[1] as string, match[2] as string);
  match =
    /^(\d{4})\s*-?\s*[Qq]([1-4])$/.exec(text) ??
    /^(\d{4})\s*年\s*第?\s*([1-4一二三四])\s*季度末?$/.exec(text);
  if (match) return parsePeriod(`${match[1]}-Q${CHINESE_QUARTERS[match[2] as string]}`);
  match = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(text);
  if (!match) return undefined;
  const p = month(match[1] as string, match[2] as string);
  const day = Number(match[3]);
  return p && (day === 1 || day === Number(periodLastDay(p).slice(8))) ? p : undefined;
}
