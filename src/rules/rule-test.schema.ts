import { z } from 'zod';
import { SEVERITIES, TRANSITION_KINDS } from '../alerts/alert.types.js';
import { parsePeriod } from '../catalog/period.js';
import { parseDay, parseStepRef } from './rule-test.notation.js';
import { DEFAULT_TIME_ZONE } from './rules.runtime.js';

/**
 * The shape of a rule test file (`*.test.yaml`), after promtool's rule unit tests: `rule_files`,
 * `tests[].input_series`, `tests[].alert_rule_test[].exp_alerts`, with periods for timestamps.
 * References to the catalog, the rules and the test's institutions are checked afterwards
 * (rule-test.parser.ts), where the catalog and the rules are known.
 */

const text = z.string().trim().min(1);

/** A period such as `2024-06` or `2024-Q2`. */
export const periodText = z
  .string()
  .refine((p) => parsePeriod(p) !== undefined, 'must be a period such as 2024-06 or 2024-Q2');

/** A step: a period (its filing deadline) or a day (its start), in the test file's time zone. */
const stepText = z
  .string()
  .refine((s) => parseStepRef(s) !== undefined, 'must be a period (2024-06, 2024-Q2) or a day (2024-07-20)');

const timeZone = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as Asia/Shanghai');

/**
 * An institution of the test, as the evaluator sees it; `established` limits the filings owed and
 * `attributes` are what rules with a `where` filter and overrides by attribute select by.
 */
export const testInstitutionSchema = z.strictObject({
  code: text,
  name: text,
  type: text,
  county: text,
  established: z
    .string()
    .refine((d) => parseDay(d) !== undefined, 'must be a day such as 2024-03-05')
    .optional(),
  /** Declared in the catalog for the institution's type; rules' `where` and overrides select by them. */
  attributes: z.record(z.string(), z.boolean({ error: 'must be true or false' })).optional(),
});

/** A later value for a period: a late filing, or a corrected resubmission replacing the value. */
const correctionSchema = z.strictObject({
  period: periodText,
  value: z.number().finite(),
  at: stepText,
});

/** One metric of one institution over consecutive periods from `start`, in the values notation. */
const seriesSchema = z.strictObject({
  institution: text,
  metric: text,
  start: periodText,
  // A single value reads as a YAML number; the notation is text.
  values: z.union([z.string(), z.number().transform(String)], {
    error: 'must be values in the notation, such as "3.5 4.2 _ 5.1" (text), or a single number',
  }),
  corrections: z.array(correctionSchema).default([]),
});

/** Filings that carry no value the test gives (a missing-filing rule only asks whether one exists). */
const filingSchema = z.strictObject({
  institution: text,
  periods: text,
});

/** An alert expected active at a step; fields left out are not compared. */
export const expectedAlertSchema = z.strictObject({
  rule: text.optional(),
  institution: text.optional(),
  /** The region of a region-aggregate alert, `<scope>:<code>`, instead of an institution. */
  region: text.optional(),
  period: periodText.optional(),
  state: z.enum(['pending', 'firing']),
  severity: z.enum(SEVERITIES),
  value: z.number().finite().optional(),
  threshold: z.number().finite().optional(),
  first_period: periodText.optional(),
  periods: z.number().int().min(1).optional(),
  summary: z.strictObject({ zh: z.string().optional(), en: z.string().optional() }).optional(),
});

/** A transition expected at a step; fields left out are not compared. */
export const expectedTransitionSchema = z.strictObject({
  kind: z.enum(TRANSITION_KINDS),
  rule: text.optional(),
  institution: text.optional(),
  region: text.optional(),
  period: periodText.optional(),
  severity: z.enum(SEVERITIES).optional(),
  value: z.number().finite().optional(),
});

/** What must hold after the evaluation at one step, within the optional rule and institution filter. */
const checkSchema = z
  .strictObject({
    at: stepText,
    rule: text.optional(),
    institution: text.optional(),
    region: text.optional(),
    exp_alerts: z.array(expectedAlertSchema).optional(),
    exp_transitions: z.array(expectedTransitionSchema).optional(),
  })
  .refine(
    (c) => c.exp_alerts !== undefined || c.exp_transitions !== undefined,
    'give exp_alerts, exp_transitions or both (an empty list expects none)',
  );

const testSchema = z.strictObject({
  name: text,
  institutions: z.array(testInstitutionSchema).default([]),
  input_series: z.array(seriesSchema).default([]),
  filings: z.array(filingSchema).default([]),
  alert_rule_test: z.array(checkSchema).min(1),
});

/** A rule test file. Top-level `x-` keys are ignored, to hold YAML anchors. */
export const ruleTestFileSchema = z.preprocess(
  (raw) =>
    raw && typeof raw === 'object' && !Array.isArray(raw)
      ? Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith('x-')))
      : raw,
  z.strictObject({
    rule_files: z.array(text).min(1),
    catalog: text.optional(),
    time_zone: timeZone.default(DEFAULT_TIME_ZONE),
    institutions: z.array(testInstitutionSchema).default([]),
    tests: z.array(testSchema).min(1),
  }),
);

export type RuleTestFileDef = z.output<typeof ruleTestFileSchema>;
export type RuleTestDef = RuleTestFileDef['tests'][number];
export type TestInstitutionDef = z.output<typeof testInstitutionSchema>;
export type ExpectedAlertDef = z.output<typeof expectedAlertSchema>;
export type ExpectedTransitionDef = z.output<typeof expectedTransitionSchema>;
