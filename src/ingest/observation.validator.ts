import type { Principal } from '../auth/api-key.js';
import type { Catalog } from '../catalog/catalog.js';
import { formatPeriod, parsePeriod } from '../catalog/period.js';
import type { ProblemDetail } from '../http/app-error.js';
import type { Institution } from '../institutions/institution.schema.js';
import { resolveMetric } from './csv.parser.js';
import type { Cell, RawObservation, SubmissionDraft } from './observation.types.js';

/** What validation needs to know beyond the rows themselves. */
export interface ValidationContext {
  readonly catalog: Catalog;
  /** Known institutions, by code, for those named in the upload. */
  readonly institutions: ReadonlyMap<string, Institution>;
  readonly principal: Principal;
}

const PLAIN_DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function at(cell: Cell): Pick<ProblemDetail, 'row' | 'column' | 'field'> {
  return { row: cell.row, ...(cell.column !== undefined ? { column: cell.column } : {}), field: cell.field };
}

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

/**
 * Validates raw observations: institution known and allowed for the caller, metric known and
 * reported by the institution's type, period well-formed and of the metric's frequency, value a finite
 * number inside the metric's range, no metric given twice for one institution and period.
 * Pure: reports every problem at once and returns the drafts only when there is none.
 */
export function validateObservations(
  raw: readonly RawObservation[],
  ctx: ValidationContext,
): { drafts: SubmissionDraft[]; errors: ProblemDetail[] } {
  const errors: ProblemDetail[] = [];
  const groups = new Map<string, { institution: string; period: string; values: Record<string, number> }>();
  const where = new Map<string, Cell>();

  for (const obs of raw) {
    const before = errors.length;
    const code = obs.institution.text.trim();
    const institution = ctx.institutions.get(code);
    if (code === '') {
      errors.push({
        code: 'missing_institution',
        ...at(obs.institution),
        message: 'The institution code is empty',
      });
    } else if (!institution) {
      errors.push({
        code: 'unknown_institution',
        ...at(obs.institution),
        value: code,
        message: `Unknown institution ${code}`,
      });
    } else if (ctx.principal.role === 'institution' && ctx.principal.institution !== code) {
      errors.push({
        code: 'institution_not_allowed',
        ...at(obs.institution),
        value: code,
        message: `This key may only submit data for ${ctx.principal.institution}`,
      });
    }

    const metricCode = resolveMetric(ctx.catalog, obs.metric.text);
    const metric = metricCode ? ctx.catalog.metrics.get(metricCode) : undefined;
    if (!metric) {
      errors.push({
        code: 'unknown_metric',
        ...at(obs.metric),
        value: obs.metric.text,
        message: `Unknown metric ${obs.metric.text}`,
      });
    } else if (institution && !metric.types.includes(institution.type)) {
      errors.push({
        code: 'metric_not_for_type',
        ...at(obs.metric),
        value: metric.code,
        message: `${metric.code} is not reported by ${institution.type} institutions`,
      });
    }

    const period = parsePeriod(obs.period.text.trim());
    if (!period) {
      errors.push({
        code: 'invalid_period',
        ...at(obs.period),
        value: obs.period.text,
        message: `${JSON.stringify(obs.period.text)} is not a period; write 2024-06 (monthly) or 2024-Q2 (quarterly)`,
      });
    } else if (metric && period.frequency !== metric.frequency) {
      errors.push({
        code: 'period_frequency_mismatch',
        ...at(obs.period),
        value: obs.period.text,
        message: `${metric.code} is reported ${metric.frequency}, so its period looks like ${metric.frequency === 'monthly' ? '2024-06' : '2024-Q2'}`,
      });
    }

    const parsed = parseDecimal(obs.value.text);
    if (!parsed.ok) {
      errors.push({
        code: 'invalid_number',
        ...at(obs.value),
        value: obs.value.text,
        message: parsed.message,
      });
    } else if (metric) {
      const { min, max } = metric.range;
      if ((min !== undefined && parsed.value < min) || (max !== undefined && parsed.value > max)) {
        errors.push({
          code: 'out_of_range',
          ...at(obs.value),
          value: parsed.value,
          message: `${metric.code} must lie within [${min ?? '-∞'}, ${max ?? '∞'}]`,
        });
      }
    }
    if (errors.length > before || !metric || !period || !parsed.ok) continue;

    const periodText = formatPeriod(period);
    const key = `${code}\u0000${periodText}`;
    const group = groups.get(key) ?? { institution: code, period: periodText, values: {} };
    groups.set(key, group);
    const first = where.get(`${key}\u0000${metric.code}`);
    if (first) {
      errors.push({
        code: 'duplicate_value',
        ...at(obs.value),
        value: metric.code,
        message: `${metric.code} for ${code} ${periodText} is already given in row ${first.row}`,
      });
      continue;
    }
    where.set(`${key}\u0000${metric.code}`, obs.value);
    group.values[metric.code] = parsed.value;
  }
  if (raw.length === 0) errors.push({ code: 'empty_file', message: 'The upload contains no observations' });
  return { drafts: errors.length > 0 ? [] : [...groups.values()], errors };
}
