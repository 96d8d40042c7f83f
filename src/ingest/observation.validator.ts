import type { Principal } from '../auth/api-key.js';
import { periodHasEnded, periodLastDay, quarterEndingIn } from '../catalog/calendar.js';
import type { Catalog } from '../catalog/catalog.js';
import type { MetricDef } from '../catalog/catalog.schema.js';
import { formatPeriod, type Period } from '../catalog/period.js';
import type { ProblemDetail } from '../http/app-error.js';
import { parseDecimal, readPeriod } from './cell.text.js';
import { resolveMetric } from './layout.js';
import type { Cell, RawObservation, SubmissionDraft, ValueLocation } from './observation.types.js';
import { ProblemLog } from './problem.log.js';

export { parseDecimal, readPeriod } from './cell.text.js';

/** An institution as validation needs it. */
export interface KnownInstitution {
  readonly code: string;
  readonly type: string;
  readonly credit_code?: string | null;
  readonly established_on?: string | null;
}

/** What validation needs to know beyond the rows themselves. */
export interface ValidationContext {
  readonly catalog: Catalog;
  /** Known institutions by code and by unified social credit code (upper case). */
  readonly institutions: ReadonlyMap<string, KnownInstitution>;
  readonly principal: Principal;
  /** Today's date in the regulator's time zone (`YYYY-MM-DD`): periods not yet over are refused. */
  readonly today?: string;
}

function at(cell: Cell): Pick<ProblemDetail, 'row' | 'column' | 'field'> {
  return { row: cell.row, ...(cell.column !== undefined ? { column: cell.column } : {}), field: cell.field };
}

/**
 * One (institution, period) being gathered, with where each value came from. Parallel arrays, not
 * objects keyed by metric: V8 turns an object given more than a dozen computed keys into a hash
 * table of about 1.5 KB, which for a 30,000-institution import costs ~100 MB instead of ~15 MB.
 */
class Group implements SubmissionDraft {
  readonly metrics: string[] = [];
  readonly numbers: number[] = [];
  readonly locations: number[] = [];
  constructor(
    readonly institution: string,
    readonly type: string,
    readonly period: string,
  ) {}

  indexOf(metric: string): number {
    return this.metrics.indexOf(metric);
  }
  add(metric: string, value: number, location: number): void {
    this.metrics.push(metric);
    this.numbers.push(value);
    this.locations.push(location);
  }
}

/** Columns are at most 16,384 (Excel's limit), so a row and a column fit one number exactly. */
const COLUMN_SPAN = 32_768;

/**
 * Checks observations one at a time as they stream in (layout, catalog, ownership, period, value
 * range, duplicates) and gathers the valid ones into one draft per institution and period, keeping
 * only numbers and locations so memory stays proportional to the values, not to the file's text.
 */
export class ObservationCollector {
  private readonly groups = new Map<string, Group>();
  private readonly metricCache = new Map<string, MetricDef | null>();
  private readonly periodCache = new Map<string, Period | null>();
  private readonly storedAsQuarter = new Set<string>();
  /** The header of each column, and the field of values that have no column (JSON), by location. */
  private readonly fieldOfColumn = new Map<number, string>();
  private readonly fieldOfLocation = new Map<number, string>();
  /** Consecutive rows usually belong to the same institution and period: skip the lookup for them. */
  private lastGroup: { institution: string; period: string; group: Group } | undefined;
  private lastInstitution: { cell: Cell; found: KnownInstitution | undefined } | undefined;
  private lastPeriod: { cell: Cell; found: Period | undefined } | undefined;
  private seen = 0;

  constructor(
    private readonly ctx: ValidationContext,
    readonly problems: ProblemLog = new ProblemLog(),
  ) {}

  /** How many observations were offered. */
  get count(): number {
    return this.seen;
  }

  add(obs: RawObservation): void {
    this.seen += 1;
    const { problems } = this;
    const before = problems.total('error');
    const institution = this.institutionOf(obs.institution);
    const metric = this.metricOf(obs.metric, institution);
    const period = this.periodOf(obs.period, metric, institution);
    const parsed = parseDecimal(obs.value.text);
    if (!parsed.ok) {
      problems.error({
        code: 'invalid_number',
        ...at(obs.value),
        value: obs.value.text,
        message: parsed.message,
      });
    } else if (metric) {
      const { min, max } = metric.range;
      if ((min !== undefined && parsed.value < min) || (max !== undefined && parsed.value > max)) {
        problems.error({
          code: 'out_of_range',
          ...at(obs.value),
          value: parsed.value,
          message: `${metric.code} must lie within [${min ?? '-∞'}, ${max ?? '∞'}]`,
        });
      }
    }
    if (problems.total('error') > before || !institution || !metric || !period || !parsed.ok) return;

    const group = this.groupOf(institution, period);
    const index = group.indexOf(metric.code);
    if (index >= 0) {
      const first = group.locations[index] as number;
      const same = group.numbers[index] === parsed.value;
      const periodText = group.period;
      problems.add(same ? 'warning' : 'error', {
        code: same ? 'duplicate_row' : 'duplicate_value',
        ...at(obs.value),
        value: metric.code,
        message: same
          ? `${metric.code} for ${institution.code} ${periodText} repeats row ${this.decode(first).row} with the same value; it is counted once`
          : `${metric.code} for ${institution.code} ${periodText} is already given in row ${this.decode(first).row} with a different value`,
      });
      return;
    }
    group.add(metric.code, parsed.value, this.encode(obs.value));
  }

  /** The drafts gathered, one per institution and period, in the order first seen. */
  drafts(): SubmissionDraft[] {
    return [...this.groups.values()];
  }

  /** Where a draft's value came from. */
  readonly locate = (draft: SubmissionDraft, metric: string): ValueLocation | undefined => {
    const loc = draft.locations[draft.metrics.indexOf(metric)];
    return loc === undefined ? undefined : this.decode(loc);
  };

  private encode(cell: Cell): number {
    const column = cell.column ?? 0;
    const loc = cell.row * COLUMN_SPAN + column;
    if (column === 0) this.fieldOfLocation.set(loc, cell.field);
    else if (!this.fieldOfColumn.has(column)) this.fieldOfColumn.set(column, cell.field);
    return loc;
  }

  private decode(loc: number): ValueLocation {
    const column = loc % COLUMN_SPAN;
    const row = (loc - column) / COLUMN_SPAN;
    return column === 0
      ? { row, field: this.fieldOfLocation.get(loc) ?? '' }
      : { row, column, field: this.fieldOfColumn.get(column) ?? '' };
  }

  private groupOf(institution: KnownInstitution, period: Period): Group {
    const periodText = formatPeriod(period);
    const last = this.lastGroup;
    if (last && last.institution === institution.code && last.period === periodText) return last.group;
    const key = `${institution.code}\u0000${periodText}`;
    let group = this.groups.get(key);
    if (!group) {
      group = new Group(institution.code, institution.type, periodText);
      this.groups.set(key, group);
    }
    this.lastGroup = { institution: institution.code, period: periodText, group };
    return group;
  }

  /**
   * The institution a cell names. In the wide layout one cell serves every value of its row: it is
   * checked (and a problem reported) once.
   */
  private institutionOf(cell: Cell): KnownInstitution | undefined {
    if (cell === this.lastInstitution?.cell) return this.lastInstitution.found;
    const found = this.checkInstitution(cell);
    this.lastInstitution = { cell, found };
    return found;
  }

  private checkInstitution(cell: Cell): KnownInstitution | undefined {
    const text = cell.text.trim();
    if (text === '') {
      this.problems.error({
        code: 'missing_institution',
        ...at(cell),
        message: 'The institution code is empty',
      });
      return undefined;
    }
    const found = this.ctx.institutions.get(text) ?? this.ctx.institutions.get(text.toUpperCase());
    if (!found) {
      this.problems.error({
        code: 'unknown_institution',
        ...at(cell),
        value: text,
        message: `Unknown institution ${text}: give its RiskWatch code or its unified social credit code`,
      });
      return undefined;
    }
    const { principal } = this.ctx;
    if (principal.role === 'institution' && principal.institution !== found.code) {
      this.problems.error({
        code: 'institution_not_allowed',
        ...at(cell),
        value: text,
        message: `This key may only submit data for ${principal.institution}`,
      });
      return undefined;
    }
    return found;
  }

  private metricOf(cell: Cell, institution: KnownInstitution | undefined): MetricDef | undefined {
    let metric = this.metricCache.get(cell.text);
    if (metric === undefined) {
      const code = resolveMetric(this.ctx.catalog, cell.text);
      metric = (code ? this.ctx.catalog.metrics.get(code) : undefined) ?? null;
      this.metricCache.set(cell.text, metric);
    }
    if (!metric) {
      this.problems.error({
        code: 'unknown_metric',
        ...at(cell),
        value: cell.text,
        message: `Unknown metric ${cell.text}`,
      });
      return undefined;
    }
    if (institution && !metric.types.includes(institution.type)) {
      this.problems.error({
        code: 'metric_not_for_type',
        ...at(cell),
        value: metric.code,
        message: `${metric.code} is not reported by ${institution.type} institutions`,
      });
      return undefined;
    }
    return metric;
  }

  /**
   * The period a value is stored under. A quarterly metric given for a quarter's last month (a bank's
   * June report carrying its capital ratios) is stored under that quarter, and the receipt says so.
   */
  private periodOf(
    cell: Cell,
    metric: MetricDef | undefined,
    institution: KnownInstitution | undefined,
  ): Period | undefined {
    // As for institutions, a wide row's period cell is checked once.
    let period: Period | undefined;
    if (cell === this.lastPeriod?.cell) period = this.lastPeriod.found;
    else {
      period = this.checkPeriod(cell, institution);
      this.lastPeriod = { cell, found: period };
    }
    if (!period) return undefined;
    return this.storedPeriod(cell, period, metric);
  }

  private checkPeriod(cell: Cell, institution: KnownInstitution | undefined): Period | undefined {
    const text = cell.text.trim();
    let period = this.periodCache.get(text);
    if (period === undefined) {
      const read = readPeriod(text);
      period = read ?? null;
      this.periodCache.set(text, period);
      if (read && formatPeriod(read) !== text) {
        this.problems.info({
          code: 'period_normalised',
          ...at(cell),
          value: text,
          message: `${JSON.stringify(text)} is read as ${formatPeriod(read)}`,
        });
      }
    }
    if (!period) {
      this.problems.error({
        code: 'invalid_period',
        ...at(cell),
        value: cell.text,
        message: `${JSON.stringify(cell.text)} is not a period; write 2024-06 (monthly) or 2024-Q2 (quarterly)`,
      });
      return undefined;
    }
    if (this.ctx.today && !periodHasEnded(period, this.ctx.today)) {
      this.problems.error({
        code: 'future_period',
        ...at(cell),
        value: text,
        message: `${text} is not over yet (today is ${this.ctx.today}); data can be filed once the period has ended`,
      });
      return undefined;
    }
    if (institution?.established_on && periodLastDay(period) < institution.established_on) {
      this.problems.error({
        code: 'before_established',
        ...at(cell),
        value: text,
        message: `${institution.code} was established on ${institution.established_on}, after ${text} ended`,
      });
      return undefined;
    }
    return period;
  }

  /** The period a value is stored under, given its metric's frequency. */
  private storedPeriod(cell: Cell, period: Period, metric: MetricDef | undefined): Period | undefined {
    const text = cell.text.trim();
    if (!metric || period.frequency === metric.frequency) return period;
    const quarter = metric.frequency === 'quarterly' ? quarterEndingIn(period) : undefined;
    if (quarter) {
      if (!this.storedAsQuarter.has(text)) {
        this.storedAsQuarter.add(text);
        this.problems.info({
          code: 'stored_as_quarter',
          ...at(cell),
          value: text,
          message: `Quarterly metrics given for ${text} are stored under ${formatPeriod(quarter)}`,
        });
      }
      return quarter;
    }
    this.problems.error({
      code: 'period_frequency_mismatch',
      ...at(cell),
      value: cell.text,
      message: `${metric.code} is reported ${metric.frequency}, so its period looks like ${metric.frequency === 'monthly' ? '2024-06' : '2024-Q2 (or the quarter’s last month, e.g. 2024-06)'}`,
    });
    return undefined;
  }
}

/**
 * Validates raw observations held in memory: every row-level check of {@link ObservationCollector}.
 * Pure: reports every problem at once and returns the drafts only when there is no error.
 */
export function validateObservations(
  raw: Iterable<RawObservation>,
  ctx: ValidationContext,
): { drafts: SubmissionDraft[]; errors: ProblemDetail[]; problems: ProblemLog } {
  const collector = new ObservationCollector(ctx);
  for (const obs of raw) collector.add(obs);
  if (collector.count === 0) {
    collector.problems.error({ code: 'empty_file', message: 'The upload contains no observations' });
  }
  const { problems } = collector;
  return {
    drafts: problems.hasErrors ? [] : collector.drafts(),
    errors: [...problems.list('error')],
    problems,
  };
}
