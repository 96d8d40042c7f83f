import { Catalog } from '../../src/catalog/catalog.js';
import { type LoadedRules, loadRulesDir } from '../../src/rules/rules.runtime.js';

/** The catalog shipped in `rules/`, loaded once per test file. */
export function shippedCatalog(): Catalog {
  const loaded = Catalog.load('rules');
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems, null, 2));
  return loaded.value;
}

/** The shipped catalog, rules and routes, as the service loads them at start. */
export function shippedRules(): LoadedRules {
  const loaded = loadRulesDir('rules', new Date());
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems, null, 2));
  return loaded.value;
}
