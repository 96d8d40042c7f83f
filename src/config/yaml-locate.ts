import { type Document, isMap, isNode, isScalar, type LineCounter } from 'yaml';

/** One step of a path into a YAML document: a mapping key or a sequence index. */
export type YamlKey = string | number;

/** Where something stands in a text: 1-based line and column. */
export interface TextPosition {
  readonly line: number;
  readonly column: number;
}

/**
 * Finds where paths of keys stand in a parsed YAML document, so a problem found in the parsed value
 * (by zod or a later check) can be reported at the line and column it was written.
 */
export class YamlLocator {
  constructor(
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
    private readonly text: string,
  ) {}

  /**
   * The position of the deepest existing node on `keys` (a missing key points at the mapping that
   * lacks it). With `offset`, the position that many characters into a scalar's value, when the
   * scalar is written on one line exactly as it reads (plain, or quoted without escapes); otherwise
   * the scalar's start.
   */
  at(keys: readonly YamlKey[], offset?: number): TextPosition | undefined {
    for (let depth = keys.length; depth >= 0; depth--) {
      const node = depth === 0 ? this.doc.contents : this.doc.getIn(keys.slice(0, depth), true);
      if (!isNode(node) || !node.range) continue;
      const start = depth === keys.length && isScalar(node) ? this.valueStart(node) : undefined;
      return this.position(start !== undefined && offset !== undefined ? start + offset : node.range[0]);
    }
    return undefined;
  }

  /** The position of key `key` in the mapping at `keys` (an unknown key, say), else of the mapping. */
  keyAt(keys: readonly YamlKey[], key: string): TextPosition | undefined {
    const map = keys.length === 0 ? this.doc.contents : this.doc.getIn(keys, true);
    const pair = isMap(map) ? map.items.find((p) => isScalar(p.key) && p.key.value === key) : undefined;
    const range = isScalar(pair?.key) ? pair.key.range : undefined;
    return range ? this.position(range[0]) : this.at(keys);
  }

  /** The position of a character offset into the text. */
  position(offset: number): TextPosition {
    const { line, col } = this.lineCounter.linePos(offset);
    return { line, column: col };
  }

  /** Where a scalar's value starts in the text, when its source reads exactly as its value. */
  private valueStart(node: {
    range?: [number, number, number] | null;
    type?: string;
    value: unknown;
  }): number | undefined {
    if (!node.range) return undefined;
    const source = this.text.slice(node.range[0], node.range[1]);
    const value = String(node.value);
    if (node.type === 'PLAIN' && source === value) return node.range[0];
    const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
    if (quoted && source.slice(1, -1) === value) return node.range[0] + 1;
    return undefined;
  }
}

/** `['tests', 0, 'input_series', 2, 'values']` → `tests[0].input_series[2].values`, as parseYaml writes paths. */
export function formatKeyPath(keys: readonly YamlKey[]): string {
  return keys
    .map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`))
    .join('')
    .replace(/^\./, '');
}
