import { type Period, parsePeriod, periodOrdinal } from '../catalog/period.js';
import { type Level, type Override, sortLevels, type ThresholdRule } from './rule.schema.js';
import { attributesMatch, type ScopedInstitution } from './rule.scope.js';

/** The levels a threshold rule applies to one institution in one period. */
export interface Thresholds {
  /** Lowest severity first. */
  readonly levels: readonly Level[];
  /** Hysteresis: an active alert clears only when the value no longer breaches this. */
  readonly recovery: number | undefined;
  /** The override in effect, if any: its `source` is the legal basis for these levels. */
  readonly override: Override | undefined;
}

/** Finds the thresholds in effect for a period. */
export type ThresholdsAt = (period: Period) => Thresholds;

const constants = new WeakMap<object, { thresholds: Thresholds; at: ThresholdsAt }>();

/**
 * The thresholds of `rule` for one institution, by period: the latest override naming the institution
 * that is in effect in that period, else the latest selecting it by its attributes, else the latest naming
 * its type, else the rule's own levels — the most specific first. "Latest" is the one with the latest
 * `from` (no `from` counts as the earliest; between equals, the one written first), so a requirement
 * tightened in 2025-01 replaces the one set in 2024-01 from then on, and earlier periods keep being
 * judged by theirs.
 */
export function thresholdsFor(
  rule: Pick<ThresholdRule, 'levels' | 'recovery' | 'overrides'>,
  institution: ScopedInstitution & { readonly code: string },
): ThresholdsAt {
  // Most rules have no override at all: one constant answer per rule, no work per institution or period.
  let base = constants.get(rule);
  if (!base) {
    const fixed: Thresholds = {
      levels: sortLevels(rule.levels),
      recovery: rule.recovery,
      override: undefined,
    };
    base = { thresholds: fixed, at: () => fixed };
    constants.set(rule, base);
  }
  const { thresholds: fixed, at } = base;
  if (rule.overrides.length === 0) return at;
  const scoped = (pick: (o: Override) => boolean) =>
    rule.overrides
      .filter(pick)
      .map((o) => ({
        from: o.from ? parsePeriod(o.from) : undefined,
        until: o.until ? parsePeriod(o.until) : undefined,
        thresholds: { levels: sortLevels(o.levels), recovery: o.recovery ?? rule.recovery, override: o },
      }))
      // Latest `from` first, so the first match is the one in effect.
      .sort(
        (a, b) => (b.from ? periodOrdinal(b.from) : -Infinity) - (a.from ? periodOrdinal(a.from) : -Infinity),
      );
  const own = scoped((o) => o.institutions?.includes(institution.code) ?? false);
  const byAttribute = scoped(
    (o) => o.attributes !== undefined && attributesMatch(o.attributes, institution.attributes),
  );
  const ofType = scoped((o) => o.types?.includes(institution.type) ?? false);
  if (own.length === 0 && byAttribute.length === 0 && ofType.length === 0) return at;
  const inEffect = (candidates: typeof own, period: Period) =>
    candidates.find(
      ({ from, until }) =>
        (!from || (from.frequency === period.frequency && periodOrdinal(from) <= periodOrdinal(period))) &&
        (!until || (until.frequency === period.frequency && periodOrdinal(period) <= periodOrdinal(until))),
    )?.thresholds;
  return (period) =>
    inEffect(own, period) ?? inEffect(byAttribute, period) ?? inEffect(ofType, period) ?? fixed;
}
