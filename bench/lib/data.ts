import type { Kysely } from 'kysely';
import type { Catalog } from '../../src/catalog/catalog.js';
import type { Database } from '../../src/db/schema.js';
import { buildDemoData, type DemoInstitution, type DemoObservation } from '../../src/demo/demo.data.js';
import type { RawObservation } from '../../src/ingest/observation.types.js';
import type { Institution } from '../../src/institutions/institution.schema.js';
import type { InstitutionRef, Observation } from '../../src/rules/evaluate.js';

/** A synthetic population: demo institutions cloned under new codes, with the demo's figures. */
export interface Population {
  readonly institutions: DemoInstitution[];
  readonly observations: DemoObservation[];
}

/**
 * The demo sample (20 institutions: 12 banks, 4 guarantee and 4 microloan firms, 4 drifting into
 * breach) cloned `copies` times with codes `<demo code>-<copy>`, keeping the demo's realistic values.
 * Credit codes are dropped (they must be unique).
 */
export function clonedPopulation(copies: number, endPeriod: string, months: number): Population {
  const demo = buildDemoData(endPeriod, months);
  const rows = demo.observations;
  const institutions: DemoInstitution[] = [];
  const observations: DemoObservation[] = [];
  for (let k = 0; k < copies; k++) {
    const suffix = `-${String(k).padStart(3, '0')}`;
    for (const i of demo.institutions) {
      const { credit_code: _dropped, ...rest } = i;
      institutions.push({ ...rest, code: i.code + suffix });
    }
    for (const o of rows) observations.push({ ...o, institution: o.institution + suffix });
  }
  return { institutions, observations };
}

/** Observations as an upload presents them to `submitObservations` (rows numbered as in a CSV). */
export function toRaw(observations: readonly DemoObservation[]): RawObservation[] {
  return observations.map((o, i) => ({
    institution: { text: o.institution, row: i + 2, column: 1, field: 'institution' },
    period: { text: o.period, row: i + 2, column: 2, field: 'period' },
    metric: { text: o.metric, row: i + 2, column: 3, field: 'metric' },
    value: { text: String(o.value), row: i + 2, column: 4, field: 'value' },
  }));
}

/** The long-layout CSV an institution would upload. */
export function toLongCsv(observations: readonly DemoObservation[]): string {
  const lines = ['institution,period,metric,value'];
  for (const o of observations) lines.push(`${o.institution},${o.period},${o.metric},${o.value}`);
  return `${lines.join('\n')}\n`;
}

/** A row of the `observations` table shape, for the COPY and INSERT baselines. */
export interface ObservationRecord {
  submission_id: number;
  institution_code: string;
  period: string;
  metric: string;
  value: number;
  derived: boolean;
}

/** The observations as table rows, one synthetic submission id per (institution, period). */
export function toRecords(observations: readonly DemoObservation[]): ObservationRecord[] {
  const ids = new Map<string, number>();
  return observations.map((o) => {
    const key = `${o.institution}\u0000${o.period}`;
    let id = ids.get(key);
    if (id === undefined) {
      id = ids.size + 1;
      ids.set(key, id);
    }
    return {
      submission_id: id,
      institution_code: o.institution,
      period: o.period,
      metric: o.metric,
      value: o.value,
      derived: false,
    };
  });
}

/** COPY's CSV form of the records (no header; codes and periods need no quoting). */
export function toCopyCsv(records: readonly ObservationRecord[]): string {
  let out = '';
  for (const r of records) {
    out += `${r.submission_id},${r.institution_code},${r.period},${r.metric},${r.value},${r.derived ? 't' : 'f'}\n`;
  }
  return out;
}

/** Registers institutions in one statement per 1000 (set-up, untimed). */
export async function seedInstitutions(
  db: Kysely<Database>,
  institutions: readonly DemoInstitution[],
): Promise<void> {
  for (let i = 0; i < institutions.length; i += 1000) {
    await db
      .insertInto('institutions')
      .values(
        institutions.slice(i, i + 1000).map((x) => ({
          code: x.code,
          name: x.name,
          type: x.type,
          county: x.county,
          credit_code: null,
          attributes: JSON.stringify(x.attributes ?? {}),
        })),
      )
      .execute();
  }
}

/** The institutions as validation sees them (what `findInstitutions` would return). */
export function institutionMap(institutions: readonly DemoInstitution[]): Map<string, Institution> {
  const createdAt = new Date(0).toISOString();
  return new Map(
    institutions.map((i) => [
      i.code,
      {
        code: i.code,
        name: i.name,
        type: i.type,
        county: i.county,
        credit_code: null,
        established_on: null,
        attributes: { ...(i.attributes ?? {}) },
        created_at: createdAt,
      },
    ]),
  );
}

/**
 * What the evaluator reads after an import: the reported values plus the derived ones the catalog
 * computes per (institution, period), sorted by institution, metric and period as the loader sorts.
 */
export function evaluationInput(
  catalog: Catalog,
  population: Population,
): { institutions: InstitutionRef[]; observations: Observation[] } {
  const types = new Map(population.institutions.map((i) => [i.code, i.type]));
  const groups = new Map<string, { institution: string; period: string; values: Record<string, number> }>();
  for (const o of population.observations) {
    const key = `${o.institution}\u0000${o.period}`;
    const g = groups.get(key) ?? { institution: o.institution, period: o.period, values: {} };
    g.values[o.metric] = o.value;
    groups.set(key, g);
  }
  const observations: Observation[] = [];
  let submissionId = 0;
  for (const g of groups.values()) {
    submissionId++;
    const all = { ...g.values, ...catalog.derive(types.get(g.institution) as string, g.values) };
    for (const [metric, value] of Object.entries(all)) {
      observations.push({ institution: g.institution, metric, period: g.period, value, submissionId });
    }
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  observations.sort(
    (a, b) => cmp(a.institution, b.institution) || cmp(a.metric, b.metric) || cmp(a.period, b.period),
  );
  return {
    institutions: population.institutions.map((i) => ({
      code: i.code,
      name: i.name,
      type: i.type,
      county: i.county,
    })),
    observations,
  };
}
