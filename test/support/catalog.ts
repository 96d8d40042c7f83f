import { Catalog } from '../../src/catalog/catalog.js';

/** The catalog shipped in `rules/`, loaded once per test file. */
export function shippedCatalog(): Catalog {
  const loaded = Catalog.load('rules');
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems, null, 2));
  return loaded.value;
}
