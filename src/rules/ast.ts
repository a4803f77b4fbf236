/**
 * Typed AST of the Rules language. Every node keeps the span of its source text (code-point
 * offsets) so later stages (exporters, the CLI) can point at what they cannot handle.
 */

import type { IpValue, Type, Value } from '../scheme/values.js';
import type { Regex } from './regex.js';
import type { Wildcard } from './wildcard.js';

export interface Span {
  start: number;
  end: number;
}

/** A value-producing path: a field or call, then indexes. `each` is set once a `[*]` appears. */
export type ValueNode =
  | { k: 'field'; name: string; type: Type; each: false; span: Span }
  | { k: 'call'; fn: string; args: Arg[]; type: Type; each: false; span: Span; nameSpan: Span }
  | { k: 'index'; base: ValueNode; index: number | string | '*'; type: Type; each: boolean; span: Span; bracket: number };

export type Arg = { k: 'lit'; type: Type; value: Value; span: Span } | { k: 'value'; v: ValueNode; span: Span } | { k: 'cond'; e: Expr; span: Span };

export type CmpOp = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';

/** An item of a set literal or named list. */
export type IntItem = { lo: number; hi: number };
export type IpItem = { fam: 4 | 6; addr: Uint8Array; len: number } | { fam: 4 | 6; lo: Uint8Array; hi: Uint8Array };

export type Rhs =
  | { k: 'int'; v: number }
  | { k: 'bytes'; v: Uint8Array }
  | { k: 'ip'; v: IpValue }
  | { k: 'regex'; re: Regex; source: Uint8Array }
  | { k: 'wildcard'; w: Wildcard; source: Uint8Array }
  | { k: 'intset'; items: IntItem[] }
  | { k: 'bytesset'; items: Uint8Array[] }
  | { k: 'ipset'; items: IpItem[] }
  | { k: 'list'; name: string };

export type Op = CmpOp | 'contains' | 'matches' | 'wildcard' | 'strict_wildcard' | 'in' | 'band';

/** Condition nodes. `arr` marks Array<Bool> results (from `[*]`), which only any()/all() reduce. */
export type Expr =
  | { k: 'and' | 'or' | 'xor'; items: Expr[]; arr: boolean; span: Span }
  | { k: 'not'; item: Expr; arr: boolean; span: Span }
  | { k: 'any' | 'all'; item: Expr; arr: false; span: Span }
  | { k: 'cmp'; lhs: ValueNode; op: Op; rhs: Rhs; arr: boolean; span: Span; opSpan: Span; rhsSpan: Span }
  /** A Bool (or Array<Bool>) value used as a condition. */
  | { k: 'value'; v: ValueNode; arr: boolean; span: Span };
