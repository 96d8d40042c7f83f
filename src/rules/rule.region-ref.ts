import {
  type ActiveAlert,
  type Localized,
  REGION_SCOPES,
  type RegionRef,
  type RegionScope,
} from '../alerts/alert.types.js';
import type { Catalog } from '../catalog/catalog.js';
import type { InstitutionRef } from './evaluate.js';
import type { RegionAggregateRule, RegionComponents } from './rule.schema.js';

/** The text form of a region, `<scope>:<code>`: `county:晋江市`, `type:village_bank`, `city:*`. */
export function regionKey(region: RegionRef): string {
  return `${region.scope}:${region.code}`;
}

/** Parses `<scope>:<code>`; `undefined` for text that is not one (an unknown scope, an empty code). */
export function parseRegionKey(text: string): RegionRef | undefined {
  const colon = text.indexOf(':');
  const scope = text.slice(0, colon) as RegionScope;
  const code = text.slice(colon + 1);
  if (colon < 0 || !REGION_SCOPES.includes(scope) || code === '') return undefined;
  if (scope === 'city' && code !== '*') return undefined;
  return { scope, code };
}

/** The regions an institution belongs to for a rule, in the rule's `by` order. */
export function regionsOf(
  rule: Pick<RegionAggregateRule, 'by'>,
  institution: Pick<InstitutionRef, 'type' | 'county'>,
): RegionRef[] {
  return rule.by.map((scope) => ({
    scope,
    code: scope === 'county' ? institution.county : scope === 'type' ? institution.type : '*',
  }));
}

/** A region's name, zh and en: the county's, the type's, or the whole city. */
export function regionName(catalog: Catalog, region: RegionRef): Localized {
  switch (region.scope) {
    case 'county':
      return { zh: region.code, en: catalog.counties.get(region.code)?.en ?? region.code };
    case 'type':
      return catalog.types.get(region.code)?.name ?? { zh: region.code, en: region.code };
    case 'city':
      return { zh: '全市', en: 'the whole city' };
  }
}

/** The region a regional alert is about: its `region`, else read from its fingerprint. */
export function regionOfAlert(alert: ActiveAlert): RegionRef | undefined {
  if (alert.region) return alert.region;
  const prefix = `${alert.ruleId}/*/`;
  return alert.fingerprint.startsWith(prefix)
    ? parseRegionKey(alert.fingerprint.slice(prefix.length))
    : undefined;
}

const ID = '([a-z][a-z0-9_]*)';
const NUM = '(\\d+(?:\\.\\d+)?)';
/** Plain quotients, spaces removed: the groups give numerator, denominator and scale at these places. */
const QUOTIENTS: readonly [RegExp, number, number, number | null][] = [
  [new RegExp(`^${ID}/${ID}$`), 1, 2, null],
  [new RegExp(`^\\(${ID}/${ID}\\)$`), 1, 2, null],
  [new RegExp(`^${ID}/${ID}\\*${NUM}$`), 1, 2, 3],
  [new RegExp(`^\\(${ID}/${ID}\\)\\*${NUM}$`), 1, 2, 3],
  [new RegExp(`^${NUM}\\*${ID}/${ID}$`), 2, 3, 1],
  [new RegExp(`^${NUM}\\*\\(${ID}/${ID}\\)$`), 2, 3, 1],
];

/**
 * The components of a plain-quotient formula — `a / b`, optionally times a positive number (`a / b *
 * 100.0`, `(a / b) * 100.0`, `100.0 * a / b`) — or `undefined` for any other formula.
 */
export function quotientOf(formula: string): RegionComponents | undefined {
  const text = formula.replace(/\s+/g, '');
  for (const [pattern, n, d, k] of QUOTIENTS) {
    const m = pattern.exec(text);
    if (!m) continue;
    const scale = k === null ? 1 : Number(m[k]);
    if (!(scale > 0)) return undefined;
    return { numerator: m[n] as string, denominator: m[d] as string, scale };
  }
  return undefined;
}
