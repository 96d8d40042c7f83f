import { z } from 'zod';
import { REGION_SCOPES, SEVERITIES, severityRank } from '../alerts/alert.types.js';
import { FREQUENCIES, parsePeriod, periodOrdinal } from '../catalog/period.js';
import {
  FILING_PLACEHOLDERS,
  PEER_PLACEHOLDERS,
  PLACEHOLDERS,
  REGION_PLACEHOLDERS,
  SERIES_PLACEHOLDERS,
  unknownPlaceholders,
} from './rule.template.js';

/** Kinds of rules; a rule without `kind` is a threshold rule. */
export const RULE_KINDS = [
  'threshold',
  'change',
  'trend',
  'projection',
  'expression',
  'missing_data',
  'missing_filing',
  'peer_outlier',
  'region_aggregate',
] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

/** Comparison operators: a value breaches a level when `value <op> threshold`. */
export const OPS = ['>', '>=', '<', '<='] as const;
export type Op = (typeof OPS)[number];

/** Whether `value <op> threshold` holds. */
export function breaches(op: Op, value: number, threshold: number): boolean {
  switch (op) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
  }
}

const code = z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be lower_snake_case');

/** A message template that may use the `known` placeholders only. */
function templateOf(known: readonly string[]) {
  return z
    .string()
    .min(1)
    .superRefine((text, ctx) => {
      for (const name of unknownPlaceholders(text, known)) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown placeholder {{${name}}}; known: ${known.join(', ')}`,
        });
      }
    });
}

function noDuplicateTypes(rule: { types: readonly string[] }, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  rule.types.forEach((t, i) => {
    if (seen.has(t)) ctx.addIssue({ code: 'custom', path: ['types', i], message: `duplicate type ${t}` });
    seen.add(t);
  });
}

/**
 * Institution attributes to select by (`{ government_backed: true }`): each one named must have the value
 * given, an attribute not carried counting as false. Checked against the catalog's declarations on load.
 */
export const attributeFilterSchema = z
  .record(code, z.boolean({ error: 'must be true or false' }))
  .refine((filter) => Object.keys(filter).length > 0, 'name at least one attribute');

/** A rule's filter within its types: only institutions whose attributes match are judged. */
const whereSchema = z.strictObject({ attributes: attributeFilterSchema });

/**
 * Fields every rule has: its id, the types it covers (narrowed by `where`), its legal basis, and
 * messages using `placeholders`.
 */
function ruleFields(placeholders: readonly string[]) {
  return {
    id: code,
    types: z.array(code).min(1),
    where: whereSchema.optional(),
    source: z.string().trim().min(1),
    reason: z.string().trim().min(1).optional(),
    summary: z.strictObject({ zh: templateOf(placeholders), en: templateOf(placeholders) }),
  };
}

/** Periods a condition must hold before its alert fires. */
const forField = { for: z.number().int().min(1).max(24).default(1) };
/** Reported periods a firing alert keeps firing after its condition cleared. */
const keepFiringForField = { keep_firing_for: z.number().int().min(0).max(24).default(0) };

/** One severity level: breached when `value <op> threshold`. */
export const levelSchema = z.strictObject({
  severity: z.enum(SEVERITIES),
  threshold: z.number().finite(),
});

/** A period as rule files write it: `2024-06` (monthly) or `2024-Q2` (quarterly). */
const periodText = z.string().refine((text) => parsePeriod(text) !== undefined, {
  message: 'must be a period such as 2024-06 or 2024-Q2',
});

/**
 * Other levels for some institutions, from a period on: a type's stricter limits, the limit of the
 * institutions carrying an attribute (guarantee firms mainly serving small/micro firms and agriculture may
 * run 15x instead of 10x), or the requirement a supervisor set for one institution (e.g. one bank's
 * provision coverage set at 140% within the 120–150% band). Exactly one of `types`, `attributes` and
 * `institutions`.
 */
export const overrideSchema = z
  .strictObject({
    types: z.array(code).min(1).optional(),
    attributes: attributeFilterSchema.optional(),
    institutions: z
      .array(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be an institution code'))
      .min(1)
      .optional(),
    /** First period the override applies to; from the beginning when absent. */
    from: periodText.optional(),
    /** Last period it applies to; open-ended when absent. */
    until: periodText.optional(),
    levels: z.array(levelSchema).min(1).max(3),
    recovery: z.number().finite().optional(),
    source: z.string().trim().min(1),
    reason: z.string().trim().min(1).optional(),
  })
  .superRefine((o, ctx) => {
    const selectors = [o.types, o.attributes, o.institutions].filter((x) => x !== undefined).length;
    if (selectors !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: 'an override names exactly one of types, attributes or institutions',
      });
    }
    const from = o.from ? parsePeriod(o.from) : undefined;
    const until = o.until ? parsePeriod(o.until) : undefined;
    if (from && until && (from.frequency !== until.frequency || periodOrdinal(until) < periodOrdinal(from))) {
      ctx.addIssue({ code: 'custom', path: ['until'], message: `until ${o.until} is before from ${o.from}` });
    }
  });

/** One threshold rule as written in a rule file, with its level constraints checked. */
export const thresholdRuleSchema = z
  .strictObject({
    ...ruleFields(PLACEHOLDERS),
    kind: z.literal('threshold').default('threshold'),
    metric: code,
    op: z.enum(OPS),
    levels: z.array(levelSchema).min(1).max(3),
    /**
     * Hysteresis: once an alert is active it clears only when the value no longer breaches this
     * level (same operator), so a value hovering at a limit does not fire and resolve every period.
     */
    recovery: z.number().finite().optional(),
    /** A firing alert whose condition cleared keeps firing for this many more reported periods. */
    overrides: z.array(overrideSchema).max(100).default([]),
    ...forField,
    ...keepFiringForField,
  })
  .superRefine((rule, ctx) => {
    noDuplicateTypes(rule, ctx);
    checkLevels(rule.op, rule.levels, rule.recovery, [], ctx);
    rule.overrides.forEach((o, i) => {
      // An override keeps the rule's recovery unless it sets its own: it must suit the override's levels too.
      checkLevels(rule.op, o.levels, o.recovery ?? rule.recovery, ['overrides', i], ctx);
      o.types?.forEach((type, k) => {
        if (!rule.types.includes(type)) {
          ctx.addIssue({
            code: 'custom',
            path: ['overrides', i, 'types', k],
            message: `type ${type} is not one of the rule's types`,
          });
        }
      });
    });
  });

/**
 * Levels of distinct severities, each harder to reach than the one below it, and a recovery level
 * (if any) on the safe side of the lowest.
 */
function checkLevels(
  op: Op,
  levels: readonly Level[],
  recovery: number | undefined,
  at: (string | number)[],
  ctx: z.RefinementCtx,
): void {
  const severities = levels.map((l) => l.severity);
  if (new Set(severities).size !== severities.length) {
    ctx.addIssue({
      code: 'custom',
      path: [...at, 'levels'],
      message: 'levels must have distinct severities',
    });
    return;
  }
  const ordered = sortLevels(levels);
  const up = op === '>' || op === '>=';
  for (let i = 1; i < ordered.length; i++) {
    const lower = ordered[i - 1];
    const higher = ordered[i];
    if (!lower || !higher) continue;
    // A higher severity must be harder to reach, or it would fire before the lower one.
    const monotone = up ? higher.threshold > lower.threshold : higher.threshold < lower.threshold;
    if (!monotone) {
      ctx.addIssue({
        code: 'custom',
        path: [...at, 'levels'],
        message:
          `with op '${op}' the ${higher.severity} threshold (${higher.threshold}) must be ` +
          `${up ? 'above' : 'below'} the ${lower.severity} threshold (${lower.threshold})`,
      });
    }
  }
  const lowest = ordered[0];
  if (recovery !== undefined && lowest) {
    // Recovering must be harder than breaching: below the lowest threshold for a maximum, above it for a minimum.
    const safeSide = up ? recovery <= lowest.threshold : recovery >= lowest.threshold;
    if (!safeSide) {
      ctx.addIssue({
        code: 'custom',
        path: [...at, 'recovery'],
        message: `with op '${op}' recovery (${recovery}) must be at or ${up ? 'below' : 'above'} the lowest threshold (${lowest.threshold})`,
      });
    }
  }
}

/**
 * A change rule: judges the change of a metric against the previous period or the same period a year
 * earlier, in points (`value − reference`) or percent (`(value − reference) / |reference| × 100`), with
 * levels, `for`, `recovery`, `keep_firing_for` and overrides as a threshold rule has them.
 */
export const changeRuleSchema = z
  .strictObject({
    ...ruleFields(SERIES_PLACEHOLDERS),
    kind: z.literal('change'),
    metric: code,
    compare: z.enum(['previous', 'year_ago']).default('previous'),
    unit: z.enum(['points', 'percent']).default('points'),
    op: z.enum(OPS),
    levels: z.array(levelSchema).min(1).max(3),
    recovery: z.number().finite().optional(),
    overrides: z.array(overrideSchema).max(100).default([]),
    ...forField,
    ...keepFiringForField,
  })
  .superRefine((rule, ctx) => {
    noDuplicateTypes(rule, ctx);
    checkLevels(rule.op, rule.levels, rule.recovery, [], ctx);
    rule.overrides.forEach((o, i) => {
      checkLevels(rule.op, o.levels, o.recovery ?? rule.recovery, ['overrides', i], ctx);
    });
  });

/**
 * A trend rule: fires when the metric has moved in its worse `direction` for `periods` consecutive
 * periods (each against the one before), whatever its level — the drift a threshold sees too late.
 */
export const trendRuleSchema = z
  .strictObject({
    ...ruleFields(SERIES_PLACEHOLDERS),
    kind: z.literal('trend'),
    metric: code,
    direction: z.enum(['increasing', 'decreasing']),
    periods: z.number().int().min(2).max(24),
    severity: z.enum(SEVERITIES),
    ...keepFiringForField,
  })
  .superRefine(noDuplicateTypes);

/**
 * A projection rule: carries the latest value `horizon` periods ahead at the least-squares slope of the
 * last `fit` consecutive periods, and fires when that breaches `limit` — a limit about to be crossed.
 */
export const projectionRuleSchema = z
  .strictObject({
    ...ruleFields(SERIES_PLACEHOLDERS),
    kind: z.literal('projection'),
    metric: code,
    op: z.enum(OPS),
    limit: z.number().finite(),
    fit: z.number().int().min(3).max(36),
    horizon: z.number().int().min(1).max(12),
    severity: z.enum(SEVERITIES),
    ...forField,
    ...keepFiringForField,
  })
  .superRefine(noDuplicateTypes);

/**
 * An expression rule: a CEL expression over an institution's metrics in one period (each a double named
 * by its code), either a `condition` that fires at `severity` when true, or a `value` (a metric derived on
 * the spot) judged with `op` and `levels` as a threshold rule judges. The alert is filed under `metric`.
 * Type-checked against the catalog when the file loads.
 */
export const expressionRuleSchema = z
  .strictObject({
    ...ruleFields(SERIES_PLACEHOLDERS),
    kind: z.literal('expression'),
    metric: code,
    condition: z.string().trim().min(1).optional(),
    value: z.string().trim().min(1).optional(),
    severity: z.enum(SEVERITIES).optional(),
    op: z.enum(OPS).optional(),
    levels: z.array(levelSchema).min(1).max(3).optional(),
    recovery: z.number().finite().optional(),
    ...forField,
    ...keepFiringForField,
  })
  .superRefine((rule, ctx) => {
    noDuplicateTypes(rule, ctx);
    if ((rule.condition === undefined) === (rule.value === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'an expression rule has either a condition or a value' });
      return;
    }
    if (rule.condition !== undefined) {
      if (!rule.severity)
        ctx.addIssue({ code: 'custom', path: ['severity'], message: 'a condition needs a severity' });
      for (const key of ['op', 'levels', 'recovery'] as const) {
        if (rule[key] !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `a condition has no ${key}: it holds or not`,
          });
        }
      }
      return;
    }
    if (rule.severity)
      ctx.addIssue({
        code: 'custom',
        path: ['severity'],
        message: 'a value is judged by levels, not one severity',
      });
    if (!rule.op) ctx.addIssue({ code: 'custom', path: ['op'], message: 'a value needs an op' });
    if (!rule.levels) ctx.addIssue({ code: 'custom', path: ['levels'], message: 'a value needs levels' });
    if (rule.op && rule.levels) checkLevels(rule.op, rule.levels, rule.recovery, [], ctx);
  });

/**
 * A missing-data rule: an institution that filed a period (any metric of `metric`'s frequency) without
 * `metric` in it. Fires at `severity` for that period; resolves once a filing has it (a corrected
 * resubmission) or a later period is filed with it.
 */
export const missingDataRuleSchema = z
  .strictObject({
    ...ruleFields(PLACEHOLDERS),
    kind: z.literal('missing_data'),
    metric: code,
    severity: z.enum(SEVERITIES),
    ...forField,
    ...keepFiringForField,
  })
  .superRefine(noDuplicateTypes);

/**
 * A missing-filing rule: for each institution of the listed types, each of the `lookback` latest
 * periods of `frequency` whose deadline has passed must have a current submission, or the alert fires
 * at once (no `for`) with the days overdue as its value.
 */
export const missingFilingRuleSchema = z
  .strictObject({
    ...ruleFields(FILING_PLACEHOLDERS),
    kind: z.literal('missing_filing'),
    frequency: z.enum(FREQUENCIES),
    severity: z.enum(SEVERITIES),
    lookback: z.number().int().min(1).max(24).default(3),
  })
  .superRefine(noDuplicateTypes);

/** How a peer-outlier rule scores an institution against its peers. */
export const PEER_METHODS = ['robust_z', 'percentile'] as const;
export type PeerMethod = (typeof PEER_METHODS)[number];

/**
 * A peer-outlier rule: in each period, the institution's value of `metric` against the values of the
 * institutions of its type in that period (itself included), as a robust z-score
 * `(x − median) / (1.4826 × MAD)` or a percentile rank `100 × (below + equal / 2) / n`, judged with `op`
 * and `levels` (and `recovery`, `for`, `keep_firing_for`) as a threshold rule judges a value. A period
 * whose group has fewer than `min_peers` values is a gap.
 */
export const peerOutlierRuleSchema = z
  .strictObject({
    ...ruleFields(PEER_PLACEHOLDERS),
    kind: z.literal('peer_outlier'),
    metric: code,
    method: z.enum(PEER_METHODS),
    op: z.enum(OPS),
    levels: z.array(levelSchema).min(1).max(3),
    recovery: z.number().finite().optional(),
    /** Values the peer group needs in a period (the judged institution's included) for a judgement. */
    min_peers: z.number().int().min(3).max(10_000).default(5),
    ...forField,
    ...keepFiringForField,
  })
  .superRefine((rule, ctx) => {
    noDuplicateTypes(rule, ctx);
    checkLevels(rule.op, rule.levels, rule.recovery, [], ctx);
    if (rule.method !== 'percentile') return;
    // A percentile rank lies in 0–100 (strictly inside, in fact): a level outside could never be reached.
    rule.levels.forEach((l, i) => {
      if (l.threshold < 0 || l.threshold > 100)
        ctx.addIssue({
          code: 'custom',
          path: ['levels', i, 'threshold'],
          message: `a percentile rank lies between 0 and 100, not ${l.threshold}`,
        });
    });
    if (rule.recovery !== undefined && (rule.recovery < 0 || rule.recovery > 100))
      ctx.addIssue({
        code: 'custom',
        path: ['recovery'],
        message: `a percentile rank lies between 0 and 100, not ${rule.recovery}`,
      });
  });

/**
 * A region-aggregate rule: a ratio metric aggregated over the institutions of the rule's types in each
 * county, each type city-wide and/or the whole city (`by`), as Σ numerator / Σ denominator × scale over
 * the members that reported both components in the period, judged with `op` and `levels` as a threshold
 * rule judges a value. The components come from `numerator`, `denominator` (and `scale`, default 1), or
 * else from the catalog formula of `metric` when it is a plain quotient (`a / b * 100.0`). A period with
 * fewer than `min_members` members, or a zero denominator, is a gap.
 */
export const regionAggregateRuleSchema = z
  .strictObject({
    ...ruleFields(REGION_PLACEHOLDERS),
    kind: z.literal('region_aggregate'),
    metric: code,
    by: z.array(z.enum(REGION_SCOPES)).min(1),
    numerator: code.optional(),
    denominator: code.optional(),
    scale: z.number().finite().positive().optional(),
    min_members: z.number().int().min(1).max(10_000).default(3),
    op: z.enum(OPS),
    levels: z.array(levelSchema).min(1).max(3),
    recovery: z.number().finite().optional(),
    ...forField,
    ...keepFiringForField,
  })
  .superRefine((rule, ctx) => {
    noDuplicateTypes(rule, ctx);
    const seen = new Set<string>();
    rule.by.forEach((scope, i) => {
      if (seen.has(scope))
        ctx.addIssue({ code: 'custom', path: ['by', i], message: `duplicate scope ${scope}` });
      seen.add(scope);
    });
    if ((rule.numerator === undefined) !== (rule.denominator === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [rule.numerator === undefined ? 'numerator' : 'denominator'],
        message: 'give numerator and denominator together, or neither (the metric formula gives both)',
      });
    }
    if (rule.scale !== undefined && rule.numerator === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['scale'],
        message: 'scale goes with numerator and denominator; without them it comes from the metric formula',
      });
    }
    checkLevels(rule.op, rule.levels, rule.recovery, [], ctx);
  });

/** One rule as written in a rule file, of any kind (`kind` defaults to `threshold`). */
export const ruleSchema = z.discriminatedUnion(
  'kind',
  [
    thresholdRuleSchema,
    changeRuleSchema,
    trendRuleSchema,
    projectionRuleSchema,
    expressionRuleSchema,
    missingDataRuleSchema,
    missingFilingRuleSchema,
    peerOutlierRuleSchema,
    regionAggregateRuleSchema,
  ],
  {
    error: (issue) => {
      const input = issue.input;
      if (issue.code !== 'invalid_union' || !input || typeof input !== 'object') return undefined;
      return `unknown kind ${JSON.stringify((input as Record<string, unknown>).kind)}; known: ${RULE_KINDS.join(', ')}`;
    },
  },
);

/** A named group of rules, as Prometheus groups them; the name only organises the file. */
export const groupSchema = z.strictObject({
  name: z.string().trim().min(1),
  rules: z.array(ruleSchema).min(1),
});

/** A rule file `<name>.rules.yaml`: named groups of rules; group names are unique within the file. */
export const ruleFileSchema = z
  .strictObject({
    groups: z.array(groupSchema).min(1),
  })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.groups.forEach((g, i) => {
      if (seen.has(g.name))
        ctx.addIssue({
          code: 'custom',
          path: ['groups', i, 'name'],
          message: `duplicate group name ${g.name}`,
        });
      seen.add(g.name);
    });
  });

/** A severity level as loaded. */
export type Level = z.output<typeof levelSchema>;
/** An override as loaded. */
export type Override = z.output<typeof overrideSchema>;
/** A rule as written in its file, after validation and defaults (`for` is 1 when omitted). */
export type RuleDef = z.output<typeof ruleSchema>;

/** Where a loaded rule was defined. */
interface RuleOrigin {
  /** The group it belongs to. */
  readonly group: string;
  /** The file it was read from. */
  readonly file: string;
}

/** A loaded threshold rule, levels lowest severity first. */
export type ThresholdRule = z.output<typeof thresholdRuleSchema> & RuleOrigin;
/** A loaded change rule, levels lowest severity first. */
export type ChangeRule = z.output<typeof changeRuleSchema> & RuleOrigin;
/** A loaded trend rule. */
export type TrendRule = z.output<typeof trendRuleSchema> & RuleOrigin;
/** A loaded projection rule. */
export type ProjectionRule = z.output<typeof projectionRuleSchema> & RuleOrigin;
/** A loaded expression rule, with the metrics its expression reads (found when it loaded). */
export type ExpressionRule = z.output<typeof expressionRuleSchema> &
  RuleOrigin & { readonly inputs: readonly string[] };
/**
 * A loaded missing-data rule; `inputs` is its own metric (what it filed is told by the institution's
 * current submissions, the evaluation's `filings`).
 */
export type MissingDataRule = z.output<typeof missingDataRuleSchema> &
  RuleOrigin & { readonly inputs: readonly string[] };
/** A loaded missing-filing rule. */
export type MissingFilingRule = z.output<typeof missingFilingRuleSchema> & RuleOrigin;
/** A rule that judges one metric's series per institution. */
export type SeriesKindRule =
  | ThresholdRule
  | ChangeRule
  | TrendRule
  | ProjectionRule
  | ExpressionRule
  | MissingDataRule;
/** A loaded peer-outlier rule, levels lowest severity first. */
export type PeerOutlierRule = z.output<typeof peerOutlierRuleSchema> & RuleOrigin;
/** The ratio a region-aggregate rule sums: Σ numerator / Σ denominator × scale. */
export interface RegionComponents {
  readonly numerator: string;
  readonly denominator: string;
  readonly scale: number;
}
/**
 * A loaded region-aggregate rule, levels lowest severity first, with its components resolved when it
 * loaded (from the rule, or from the metric's plain-quotient formula).
 */
export type RegionAggregateRule = z.output<typeof regionAggregateRuleSchema> &
  RuleOrigin & { readonly components: RegionComponents };
/** A rule that judges a metric of institutions or regions (every kind but missing filings). */
export type MetricRule = SeriesKindRule | PeerOutlierRule | RegionAggregateRule;
/** A loaded rule of any kind, and where it was defined. */
export type Rule = MetricRule | MissingFilingRule;

/** Levels sorted lowest severity first (info, warning, critical). */
export function sortLevels(levels: readonly Level[]): Level[] {
  return [...levels].sort((a, b) => severityRank(a.severity) - severityRank(b.severity));
}
