import fs from 'node:fs';
import { isNode, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';

/** One problem in a configuration file, located by file, path, line and (where known) column. */
export interface FileProblem {
  readonly file: string;
  readonly path: string;
  readonly line?: number;
  /** 1-based; given only with `line`. */
  readonly column?: number;
  readonly message: string;
}

export type FileResult<T> = { ok: true; value: T } | { ok: false; problems: FileProblem[] };

/** Formats problems one per line as `file:line[:column]: path: message`, the way compilers do. */
export function formatProblems(problems: readonly FileProblem[]): string {
  return problems
    .map((p) => {
      const at = p.line ? `:${p.line}${p.column ? `:${p.column}` : ''}` : '';
      return `${p.file}${at}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
    })
    .join('\n');
}

/**
 * Parses YAML text and validates it with a zod schema, reporting every problem at once with the
 * line it stands on. Never throws for bad content.
 */
export function parseYaml<S extends z.ZodType>(
  file: string,
  text: string,
  schema: S,
): FileResult<z.output<S>> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        file,
        path: '',
        line: lineCounter.linePos(e.pos[0]).line,
        message: e.message.split('\n')[0] ?? e.message,
      })),
    };
  }
  const parsed = schema.safeParse(doc.toJS({ maxAliasCount: 100 }));
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => {
      const path = issue.path
        .map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`))
        .join('')
        .replace(/^\./, '');
      let node: unknown = doc.getIn(issue.path as (string | number)[], true);
      // For unknown keys, point at the key's parent; for missing ones, at the nearest existing node.
      for (let depth = issue.path.length; !isNode(node) && depth > 0; depth--) {
        node = doc.getIn(issue.path.slice(0, depth - 1) as (string | number)[], true);
      }
      const offset = isNode(node) && node.range ? node.range[0] : undefined;
      const line = offset === undefined ? undefined : lineCounter.linePos(offset).line;
      return { file, path, ...(line ? { line } : {}), message: issue.message };
    }),
  };
}

/** Reads and validates one YAML file; a missing or unreadable file is a problem, not a throw. */
export function loadYamlFile<S extends z.ZodType>(file: string, schema: S): FileResult<z.output<S>> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    return { ok: false, problems: [{ file, path: '', message: (error as Error).message }] };
  }
  return parseYaml(file, text, schema);
}
