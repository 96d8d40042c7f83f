import { z } from 'zod';
import { SEVERITIES, severityRank } from '../alerts/alert.types.js';
import { FREQUENCIES } from '../catalog/period.js';
import { FILING_PLACEHOLDERS, PLACEHOLDERS, unknownPlaceholders } from './rule.template.js';

/** Kinds of rules; a rule without `kind` is a threshold rule. */
export const RULE_KINDS = ['threshold', 'missing_filing'] as const;
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

/** One severity level: breached when `value <op> threshold`. */
export const levelSchema = z.strictObject({
  severity: z.enum(SEVERITIES),
  threshold: z.number().finite(),
});

/** One threshold rule as written in a rule file, with its level constraints checked. */
export const thresholdRuleSchema = z
  .strictObject({
    id: code,
    kind: z.literal('threshold').default('threshold'),
    metric: code,
    types: z.array(code).min(1),
    op: z.enum(OPS),
    levels: z.array(levelSchema).min(1).max(3),
    for: z.number().int().min(1).max(24).default(1),
    source: z.string().trim().min(1),
    reason: z.string().trim().min(1).optional(),
    summary: z.strictObject({ zh: templateOf(PLACEHOLDERS), en: templateOf(PLACEHOLDERS) }),
  })
  .superRefine((rule, ctx) => {
    noDuplicateTypes(rule, ctx);
    const severities = rule.levels.map((l) => l.severity);
    if (new Set(severities).size !== severities.length) {
      ctx.addIssue({ code: 'custom', path: ['levels'], message: 'levels must have distinct severities' });
      return;
    }
    const ordered = sortLevels(rule.levels);
    const up = rule.op === '>' || rule.op === '>=';
    for (let i = 1; i < ordered.length; i++) {
      const lower = ordered[i - 1];
      const higher = ordered[i];
      if (!lower || !higher) continue;
      // A higher severity must be harder to reach, or it would fire before the lower one.
      const monotone = up ? higher.threshold > lower.threshold : higher.threshold < lower.threshold;
      if (!monotone) {
        ctx.addIssue({
          code: 'custom',
          path: ['levels'],
          message:
            `with op '${rule.op}' the ${higher.severity} threshold (${higher.threshold}) must be ` +
            `${up ? 'above' : 'below'} the ${lower.severity} threshold (${lower.threshold})`,
        });
      }
    }
  });

/**
 * A missing-filing rule: for each institution of the listed types, each of the `lookback` latest
 * periods of `frequency` whose deadline has passed must have a current submission, or the alert fires
 * at once (no `for`) with the days overdue as its value.
 */
export const missingFilingRuleSchema = z
  .strictObject({
    id: code,
    kind: z.literal('missing_filing'),
    frequency: z.enum(FREQUENCIES),
    types: z.array(code).min(1),
    severity: z.enum(SEVERITIES),
    lookback: z.number().int().min(1).max(24).default(3),
    source: z.string().trim().min(1),
    reason: z.string().trim().min(1).optional(),
    summary: z.strictObject({ zh: templateOf(FILING_PLACEHOLDERS), en: templateOf(FILING_PLACEHOLDERS) }),
  })
  .superRefine(noDuplicateTypes);

/** One rule as written in a rule file, of any kind (`kind` defaults to `threshold`). */
export const ruleSchema = z.discriminatedUnion('kind', [thresholdRuleSchema, missingFilingRuleSchema], {
  error: (issue) => {
    const input = issue.input;
    if (issue.code !== 'invalid_union' || !input || typeof input !== 'object') return undefined;
    return `unknown kind ${JSON.stringify((input as Record<string, unknown>).kind)}; known: ${RULE_KINDS.join(', ')}`;
  },
});

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
/** A loaded missing-filing rule. */
export type MissingFilingRule = z.output<typeof missingFilingRuleSchema> & RuleOrigin;
/** A loaded rule of any kind, and where it was defined. */
export type Rule = ThresholdRule | MissingFilingRule;

/** Levels sorted lowest severity first (info, warning, critical). */
export function sortLevels(levels: readonly Level[]): Level[] {
  return [...levels].sort((a, b) => severityRank(a.severity) - severityRank(b.severity));
}
