/**
 * Reading palisade.yaml: the document with a line counter, and typed readers of its nodes whose
 * errors are ConfigErrors naming the file, line and column of the offending node.
 */

import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, type Node, type Pair, parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';
import { ConfigError, UsageError } from '../core/errors.js';

export class ConfigReader {
  private readonly lines = new LineCounter();
  readonly root: Node | null;

  constructor(
    readonly file: string,
    text: string,
  ) {
    const doc = parseDocument(text, { lineCounter: this.lines });
    const e = doc.errors[0];
    if (e) {
      const p = e.linePos?.[0];
      throw new ConfigError(e.message.split('\n')[0] ?? 'not YAML', file, p?.line ?? 1, p?.col ?? 1);
    }
    this.root = (doc.contents as Node | null) ?? null;
  }

  /** A ConfigError at a node (at `near` when the node has no position: a missing value). */
  error(node: Node | null | undefined, message: string, near?: Node | null): ConfigError {
    const off = node?.range?.[0] ?? near?.range?.[0];
    const p = off === undefined ? { line: 1, col: 1 } : this.lines.linePos(off);
    return new ConfigError(message, this.file, p.line, p.col);
  }

  /** The key text of a mapping entry. */
  keyOf(item: Pair): string {
    return String((item.key as { value?: unknown } | null)?.value);
  }

  map(node: Node | null | undefined, what: string, near?: Node | null): YAMLMap<Node, Node> {
    if (!isMap(node)) throw this.error(node, `${what} must be a mapping`, near);
    return node as YAMLMap<Node, Node>;
  }

  seq(node: Node | null | undefined, what: string, near?: Node | null): YAMLSeq<Node> {
    if (!isSeq(node)) throw this.error(node, `${what} must be a list`, near);
    return node as YAMLSeq<Node>;
  }

  /** A number from min to max (an integer when `integer`). */
  number(node: Node | null | undefined, what: string, min: number, max: number, integer = false, near?: Node | null): number {
    const v = isScalar(node) ? node.value : undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v)))
      throw this.error(node, `${what} must be a number from ${min} to ${max}${integer ? ' (an integer)' : ''}`, near);
    return v;
  }

  /** A string scalar (numbers and booleans are refused: `prefix: 10` is a mistake, not "10"). */
  string(node: Node | null | undefined, what: string, near?: Node | null): string {
    const v = isScalar(node) ? node.value : undefined;
    if (typeof v !== 'string') throw this.error(node, `${what} must be a string`, near);
    return v;
  }
}

/** A configuration file's text; a missing or unreadable file is a usage error that names it. */
export function readConfigText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`${file}: no such configuration file`);
    throw new UsageError(`${file}: ${(e as Error).message}`);
  }
}
