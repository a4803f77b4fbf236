/**
 * The engine's side of persistent collections (persistent.ts): how a transaction's `initcol`
 * finds its record, the look-ahead that reads a remote store's records before the (synchronous)
 * evaluation, and the write of each transaction's changes.
 *
 * The look-ahead runs phase 1 of the request up to the last rule with an `initcol`, with a
 * recorder in place of the store: the record keys are macros of the request and of TX
 * variables set just before (`%{remote_addr}_%{tx.ua_hash}`), so running those rules is the
 * one way to know them. An `initcol` after phase 1 is not read ahead: its record opens as the
 * memory of this process has it (new, with a remote store), while its changes still reach
 * the store, increments as increments.
 */
import { PalisadeError } from '../core/errors.js';
import { parseMacro } from './macro.js';
import { BUILTIN_KEYS, type CollectionAccess, type CollectionStore, type OpenRecord, PERSISTENT_COLLS, type RecordRef, recordKey, type StoredRecord } from './persistent.js';
import { Phase } from './phase.js';
import type { Plan } from './plan.js';
import type { Macro, Rule } from './rule.js';
import { type Reusables, Transaction, type WafRequest } from './transaction.js';

/** The remote store of persistent collections did not answer (the caller fails open or closed). */
export class CollectionsUnavailable extends PalisadeError {
  constructor(message: string) {
    super('E_DEPENDENCY', message);
    this.name = 'CollectionsUnavailable';
  }
}

export class Records {
  readonly access: CollectionAccess;
  /** the last phase-1 rule with an initcol (null: no look-ahead) */
  private readonly lastInitcol: Rule | null;
  /** writes that failed (a remote store down): counted, never thrown at the request */
  commitFailures = 0;
  /** writes to a remote store not answered yet */
  private readonly pending = new Set<Promise<void>>();

  /** Collections whose built-in variables (KEY, IS_NEW, ...) some rule reads: only those get them. */
  readonly builtins: ReadonlySet<string>;

  constructor(
    private readonly plan: Plan,
    private readonly reusables: Reusables,
    private readonly presets: [string, string][],
    readonly store: CollectionStore,
    readonly now: () => number,
  ) {
    this.access = {
      open: (coll, key, fetched) => {
        if (fetched !== undefined) {
          const r = fetched.get(recordKey(coll, key));
          if (r !== undefined) return r;
        }
        return store.load(coll, key, now()) ?? null;
      },
      now,
      builtins: new Set(),
    };
    this.builtins = builtinReaders(plan);
    this.access.builtins = this.builtins;
    this.lastInitcol = store.kind === 'remote' ? lastInitcolOf(plan.phases[Phase.REQUEST_HEADERS]?.rules ?? []) : null;
  }

  /** For a remote store: reads the records the request's evaluation will open into
   * `request.collections`. Null when there is nothing to read ahead. */
  readAhead(request: WafRequest): Promise<void> | null {
    if (this.lastInitcol === null) return null;
    const refs = this.keysOf(request);
    if (refs.length === 0) return null;
    return this.store.fetch(refs, this.now()).then(
      (recs) => {
        const m = new Map<string, StoredRecord | null>();
        for (let i = 0; i < refs.length; i++) m.set(recordKey(refs[i].coll, refs[i].key), recs[i] ?? null);
        request.collections = m;
      },
      (e: Error) => {
        throw new CollectionsUnavailable(`WAF collections: ${e.message}`);
      },
    );
  }

  /** The records phase 1 opens for `request`: its rules up to the last initcol, run with a
   * recorder in place of the store (the engine's caches are free: evaluation is synchronous). */
  private keysOf(request: WafRequest): RecordRef[] {
    const refs: RecordRef[] = [];
    const recorder: CollectionAccess = {
      open(coll, key) {
        refs.push({ coll, key });
        return null;
      },
      now: this.now,
    };
    const r = this.reusables;
    const t = new Transaction(this.plan, { valueCache: r.valueCache, initialTx: r.initialTx, collections: recorder }, request, null, this.presets);
    t.stopAfter = this.lastInitcol;
    try {
      t.runPhase(Phase.REQUEST_HEADERS);
    } finally {
      t.release();
    }
    return refs;
  }

  /** Sends a transaction's changes to the store (those of records it changed). */
  commit(opened: ReadonlyMap<string, OpenRecord>): void {
    let changed: OpenRecord[] | null = null;
    for (const rec of opened.values()) if (rec.ops.length !== 0) (changed ??= []).push(rec);
    if (changed === null) return;
    const done = this.store.commit(changed, this.now());
    if (done instanceof Promise) {
      const p = done.then(
        () => {
          this.pending.delete(p);
        },
        () => {
          this.commitFailures++;
          this.pending.delete(p);
        },
      );
      this.pending.add(p);
    }
  }

  /** Resolves once every write sent so far has landed or failed (tests, a graceful stop). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}

/**
 * The persistent collections whose built-in variables a rule may read: a target naming one
 * (`IP:IS_NEW`), the whole collection (`IP`, `&IP`), or a macro (`%{ip.update_counter}`). The
 * CRS reads none, so its requests do not pay for six variables per record they never look at.
 */
export function builtinReaders(plan: Plan): Set<string> {
  const out = new Set<string>();
  const macro = (m: Macro | null): void => {
    if (m === null) return;
    for (const part of m) {
      if (typeof part === 'string' || !PERSISTENT_COLLS.has(part.coll)) continue;
      if (part.key === null || BUILTIN_KEYS.includes(part.key)) out.add(part.coll);
    }
  };
  for (const phase of plan.phases) {
    for (const r of phase.rules) {
      for (let l: Rule | null = r; l !== null; l = l.chain) {
        for (const t of l.targets) {
          if (!PERSISTENT_COLLS.has(t.coll)) continue;
          if (t.selector === null || t.selector.kind !== 'name' || BUILTIN_KEYS.includes(t.selector.name.toLowerCase())) out.add(t.coll);
        }
        if (l.op.param.includes('%{')) macro(parseMacro(l.op.param));
        for (const sv of l.setvars) {
          macro(sv.name);
          macro(sv.value);
        }
        for (const ic of l.initcols) macro(ic.key);
        for (const t of l.timers) {
          macro(t.name);
          macro(t.amount);
          macro(t.seconds);
        }
        for (const c of l.ctls) if (c.value.includes('%{')) macro(parseMacro(c.value));
        macro(l.msg);
        macro(l.logdata);
      }
    }
  }
  return out;
}

function lastInitcolOf(rules: readonly Rule[]): Rule | null {
  let last: Rule | null = null;
  for (const r of rules) {
    for (let l: Rule | null = r; l !== null; l = l.chain) if (l.initcols.length !== 0) last = r;
  }
  return last;
}
