import type { Catalog } from '../catalog/catalog.js';
import type { ProblemDetail } from '../http/app-error.js';

/**
 * Checks an institution's attributes against the catalog's `institution_attributes`: each must be
 * declared (`unknown_attribute`), declared for the institution's type (`attribute_not_for_type`) and a
 * boolean (`invalid_attribute_value`). Every problem is reported, each with `row` and the field
 * `attributes.<code>`. The type itself is checked by the caller; an unknown type skips the type check.
 */
export function attributeProblems(
  catalog: Catalog,
  type: string,
  attributes: Readonly<Record<string, unknown>> | undefined,
  row: number,
): ProblemDetail[] {
  const problems: ProblemDetail[] = [];
  for (const [code, value] of Object.entries(attributes ?? {})) {
    const field = `attributes.${code}`;
    const declared = catalog.attributes.get(code);
    if (!declared) {
      const known = [...catalog.attributes.keys()];
      problems.push({
        code: 'unknown_attribute',
        row,
        field,
        value: code,
        message: `Unknown attribute ${code}; known: ${known.length > 0 ? known.join(', ') : '(none)'}`,
      });
      continue;
    }
    if (catalog.types.has(type) && !declared.types.includes(type)) {
      problems.push({
        code: 'attribute_not_for_type',
        row,
        field,
        value: code,
        message: `Attribute ${code} (${declared.name.en}) is for ${declared.types.join(', ')} institutions, not ${type}`,
      });
    }
    if (typeof value !== 'boolean') {
      problems.push({
        code: 'invalid_attribute_value',
        row,
        field,
        value,
        message: `Attribute ${code} must be true or false, not ${JSON.stringify(value)}`,
      });
    }
  }
  return problems;
}

/**
 * Reads the `attributes` cell of an institutions CSV: attribute codes separated by `;`, each meaning
 * `true` (`government_backed;small_micro_focused`), or `code=true` / `code=false`. Any other value is
 * kept as text, so validation names the attribute and the value it could not take. Blank tokens are
 * skipped; an empty cell gives no attributes.
 */
export function parseAttributeCell(text: string): Record<string, boolean | string> {
  const attributes: Record<string, boolean | string> = {};
  for (const token of text.split(';')) {
    const item = token.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq < 0) {
      attributes[item] = true;
      continue;
    }
    const code = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    attributes[code] = value === 'true' ? true : value === 'false' ? false : value;
  }
  return attributes;
}
