/**
 * Whether a rule covers an institution: the institution's type is one of the rule's types. Peer-outlier
 * and region-aggregate rules ask this one question for the institutions they judge, for the peers they
 * compare them with and for the members they sum, so a rule-level filter (on institution attributes,
 * say) added here applies to all three alike: an institution outside the rule is never anyone's peer.
 */
export function ruleApplies(
  rule: { readonly types: readonly string[] },
  institution: { readonly type: string },
): boolean {
  return rule.types.includes(institution.type);
}
