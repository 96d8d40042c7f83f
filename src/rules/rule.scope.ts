/**
 * Institution attributes a rule or an override selects by, as written under `attributes:`: each named
 * attribute must have the value given. Attributes are booleans (catalog.yaml `institution_attributes`).
 */
export type AttributeFilter = Readonly<Record<string, boolean>>;

/** What scoping needs to know about an institution: its type and the attributes it carries. */
export interface ScopedInstitution {
  readonly type: string;
  /** Absent or without an attribute: that attribute is false. */
  readonly attributes?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * Whether an institution's attributes satisfy a filter: every attribute named has the value given, an
 * attribute the institution does not carry counting as `false` (only `true` is true). An absent or
 * empty filter matches every institution.
 */
export function attributesMatch(
  filter: AttributeFilter | undefined,
  attributes: ScopedInstitution['attributes'],
): boolean {
  if (!filter) return true;
  for (const [code, wanted] of Object.entries(filter)) {
    if ((attributes?.[code] === true) !== wanted) return false;
  }
  return true;
}

/**
 * Whether a rule judges an institution: its type is one of the rule's `types` and its attributes
 * satisfy the rule's `where` filter. Every place that asks "does this rule cover this institution?"
 * asks it here, so a rule that stops covering an institution (an attribute changed, a type dropped)
 * resolves its alerts the same way everywhere.
 */
export function ruleCovers(rule: ScopedRule, institution: ScopedInstitution): boolean {
  return coverageOf(rule)(institution);
}

/**
 * {@link ruleCovers} for one rule, as a function made once: a national evaluation asks it of tens of
 * thousands of institutions per rule.
 */
export function coverageOf(rule: ScopedRule): (institution: ScopedInstitution) => boolean {
  let covers = coverages.get(rule);
  if (!covers) {
    const types = new Set(rule.types);
    const filter = rule.where?.attributes;
    covers =
      filter === undefined
        ? (i) => types.has(i.type)
        : (i) => types.has(i.type) && attributesMatch(filter, i.attributes);
    coverages.set(rule, covers);
  }
  return covers;
}

/** What scoping reads of a rule. */
type ScopedRule = {
  readonly types: readonly string[];
  readonly where?: { readonly attributes?: AttributeFilter };
};

const coverages = new WeakMap<ScopedRule, (institution: ScopedInstitution) => boolean>();
