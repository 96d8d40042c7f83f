import { z } from 'zod';
import { FREQUENCIES } from './period.js';

const code = z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be lower_snake_case');
const bilingual = z.strictObject({ zh: z.string().min(1), en: z.string().min(1) });

export const UNITS = ['percent', 'times', 'cny_10k', 'count'] as const;

export const institutionTypeSchema = z.strictObject({
  code,
  category: z.enum(['bank', 'quasi_financial']),
  name: bilingual,
});

export const countySchema = z.strictObject({ code: z.string().min(1), en: z.string().min(1) });

/** The kinds of value an institution attribute takes; booleans only for now. */
export const ATTRIBUTE_VALUES = ['boolean'] as const;

/**
 * A known institution attribute: a fact about some institutions of some types that rules select by
 * (a government-backed guarantee firm, a guarantee firm mainly serving small/micro firms and agriculture).
 * Institutions may carry only declared attributes, of the types listed here.
 */
export const institutionAttributeSchema = z.strictObject({
  code,
  name: bilingual,
  types: z.array(code).min(1),
  value: z.enum(ATTRIBUTE_VALUES).default('boolean'),
});

export const metricSchema = z.strictObject({
  code,
  name: bilingual,
  unit: z.enum(UNITS),
  frequency: z.enum(FREQUENCIES),
  types: z.array(code).min(1),
  range: z
    .strictObject({ min: z.number().optional(), max: z.number().optional() })
    .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, 'min must not exceed max')
    .default({}),
  formula: z.string().min(1).optional(),
  /** Overrides `validation.jump_factor` for a metric that moves more (or less) from one period to the next. */
  jump_factor: z.number().gt(1).optional(),
  /** Overrides `validation.ratio_tolerance` for this derived metric. */
  tolerance: z.number().min(0).optional(),
});

/** A cross-field consistency check over one institution's values for one period. */
export const consistencyCheckSchema = z.strictObject({
  id: code,
  /** A CEL expression over metric codes that must hold; checked only when every metric it names is present. */
  assert: z.string().min(1),
  severity: z.enum(['error', 'warning']).default('error'),
  message: bilingual,
});

/** How uploads are checked beyond each value's own range. */
export const validationSchema = z
  .strictObject({
    /** A value more than this many times (or less than 1/this of) the previous period's gives a warning. */
    jump_factor: z.number().gt(1).default(5),
    /** How far a reported derived ratio may differ from the one computed from its components (its unit). */
    ratio_tolerance: z.number().min(0).default(0.05),
    checks: z.array(consistencyCheckSchema).default([]),
  })
  .default({ jump_factor: 5, ratio_tolerance: 0.05, checks: [] });

/** When a frequency's data is due: `days_after_period_end` calendar days after the period's last day. */
export const filingDeadlineSchema = z.strictObject({
  days_after_period_end: z.number().int().min(0).max(366),
});

/** One deadline per reporting frequency; each frequency a metric uses must have one (checked on load). */
export const filingDeadlinesSchema = z.strictObject(
  Object.fromEntries(FREQUENCIES.map((f) => [f, filingDeadlineSchema.optional()])) as Record<
    (typeof FREQUENCIES)[number],
    z.ZodOptional<typeof filingDeadlineSchema>
  >,
);

/** Top-level keys starting with `x-` are YAML anchors' homes and are ignored, as in OpenAPI. */
export const catalogFileSchema = z.preprocess(
  (raw) =>
    raw && typeof raw === 'object' && !Array.isArray(raw)
      ? Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith('x-')))
      : raw,
  z.strictObject({
    institution_types: z.array(institutionTypeSchema).min(1),
    counties: z.array(countySchema).min(1),
    institution_attributes: z.array(institutionAttributeSchema).default([]),
    validation: validationSchema,
    metrics: z.array(metricSchema).min(1),
    filing_deadlines: filingDeadlinesSchema,
  }),
);

export type InstitutionTypeDef = z.output<typeof institutionTypeSchema>;
export type CountyDef = z.output<typeof countySchema>;
export type InstitutionAttributeDef = z.output<typeof institutionAttributeSchema>;
export type ValidationDef = z.output<typeof validationSchema>;
export type MetricDef = z.output<typeof metricSchema>;
export type FilingDeadlinesDef = z.output<typeof filingDeadlinesSchema>;
export type CatalogFile = z.output<typeof catalogFileSchema>;
