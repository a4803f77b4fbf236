/**
 * Persistent collections (IP, GLOBAL, SESSION, USER, RESOURCE): records that outlive a request,
 * opened by `initcol:ip=%{remote_addr}_%{tx.ua_hash}` (`setsid:` opens SESSION, `setuid:` USER),
 * so CRS rules that keep state (DoS bursts in 912, the reputation block flag of 910/913) work.
 *
 * A transaction starts each record as the store had it, changes its own copy, and notes every
 * change as an operation (`=`, `+n`, delete, expiry). At the end the operations go to the store
 * in one batch: relative ones stay relative (`+1` is an increment, not "write 6"), so proxies
 * sharing a remote store count together. Variables expire as ModSecurity's do: `expirevar`
 * stamps `__expire_<name>` and a read after that time no longer sees the variable; a record not
 * written for its TIMEOUT (SecCollectionTimeout, default 3600 s) is gone.
 *
 * The store behind it is in process memory (`MemoryCollectionStore`, the default) or remote
 * (Redis, in the edge): a remote store is read before the evaluation (`Waf.prepare`), since rule
 * evaluation is synchronous.
 */

/** Collections `initcol` can open. */
export const PERSISTENT_COLLS: ReadonlySet<string> = new Set(['IP', 'GLOBAL', 'SESSION', 'USER', 'RESOURCE']);

/** The variables every opened record has (ModSecurity's), and their keys. */
export const BUILTIN_NAMES = ['KEY', 'IS_NEW', 'CREATE_TIME', 'LAST_UPDATE_TIME', 'UPDATE_COUNTER', 'TIMEOUT'];
export const BUILTIN_KEYS = BUILTIN_NAMES.map((n) => n.toLowerCase());

/** ModSecurity's SecCollectionTimeout default, seconds. */
export const DEFAULT_COLLECTION_TIMEOUT = 3600;

/** One record as the store had it when the transaction opened it. */
export interface StoredRecord {
  /** variables by lower-case name (expired ones already left out) */
  readonly vars: ReadonlyMap<string, string>;
  /** ms since the epoch */
  readonly createTime: number;
  readonly lastUpdate: number;
  readonly updateCounter: number;
}

/** One change a transaction made to a record, applied by the store in order. */
export type CollectionOp =
  | { readonly op: 'set'; readonly name: string; readonly value: string }
  | { readonly op: 'add'; readonly name: string; readonly delta: number }
  | { readonly op: 'del'; readonly name: string }
  | { readonly op: 'expire'; readonly name: string; readonly seconds: number };

/** The changes of one transaction to one record. */
export interface RecordChanges {
  readonly coll: string;
  readonly key: string;
  readonly ops: CollectionOp[];
  /** the record's TIMEOUT, seconds (its variable, else the engine's SecCollectionTimeout) */
  timeout: number;
}

/** A record a transaction opened: its changes so far, and when the store last wrote it. */
export interface OpenRecord extends RecordChanges {
  /** ms since the epoch (the open time for a new record) */
  readonly lastUpdate: number;
}

export interface CollectionStore {
  /** `memory` answers at once; `remote` is read ahead of the evaluation by `fetch` */
  readonly kind: 'memory' | 'remote';
  /** The record now, when the store can answer synchronously (null: no such record). Remote
   * stores return undefined: read them with `fetch`. */
  load(coll: string, key: string, now: number): StoredRecord | null | undefined;
  /** Reads records ahead of an evaluation (one round trip); null for a record that does not exist. */
  fetch(refs: readonly RecordRef[], now: number): Promise<(StoredRecord | null)[]>;
  /** Applies one transaction's changes (atomically per call for a remote store). */
  commit(changes: readonly RecordChanges[], now: number): void | Promise<void>;
  close?(): Promise<void>;
}

/** How the transactions of one engine reach the store (`Reusables.collections`). */
export interface CollectionAccess {
  /** The record as an evaluation starts it: read ahead (`fetched`) or from the store; null: new. */
  open(coll: string, key: string, fetched: ReadonlyMap<string, StoredRecord | null> | undefined): StoredRecord | null;
  /** ms since the epoch (injected, so replays and tests agree) */
  now(): number;
  /** collections whose built-in variables (KEY, IS_NEW, ...) rules read; absent: all */
  builtins?: ReadonlySet<string>;
}

export interface RecordRef {
  readonly coll: string;
  readonly key: string;
}

/** Key of a record in a map of fetched records (`WafRequest.collections`). */
export function recordKey(coll: string, key: string): string {
  return `${coll}\n${key}`;
}

/** The value after an `add` to `cur` (ModSecurity reads a non-number as 0). */
export function addTo(cur: string | undefined, delta: number): string {
  const n = cur === undefined ? 0 : Number.parseInt(cur, 10) || 0;
  return String(n + delta);
}

/** Name of the variable holding `name`'s expiry time (ms since the epoch), as ModSecurity names it. */
export function expireName(name: string): string {
  return `__expire_${name}`;
}

interface MemRecord {
  vars: Map<string, string>;
  /** expiry per variable, ms */
  expires: Map<string, number>;
  createTime: number;
  lastUpdate: number;
  updateCounter: number;
  /** the record is gone after this (ms) */
  until: number;
}

export interface MemoryCollectionOptions {
  /** Records kept at most; past it the least recently written go first (default 200 000). */
  maxRecords?: number;
}

/**
 * Records in this process. Bounded: a flood of new keys (every address × user agent) evicts
 * the least recently written records instead of growing without end; `evicted` counts them.
 */
export class MemoryCollectionStore implements CollectionStore {
  readonly kind = 'memory';
  private readonly records = new Map<string, MemRecord>();
  private readonly maxRecords: number;
  evicted = 0;

  constructor(opts: MemoryCollectionOptions = {}) {
    this.maxRecords = opts.maxRecords ?? 200_000;
  }

  get size(): number {
    return this.records.size;
  }

  load(coll: string, key: string, now: number): StoredRecord | null {
    const k = recordKey(coll, key);
    const r = this.records.get(k);
    if (r === undefined) return null;
    if (r.until <= now) {
      this.records.delete(k);
      return null;
    }
    pruneExpired(r, now);
    return r;
  }

  fetch(refs: readonly RecordRef[], now: number): Promise<(StoredRecord | null)[]> {
    return Promise.resolve(refs.map((x) => this.load(x.coll, x.key, now)));
  }

  commit(changes: readonly RecordChanges[], now: number): void {
    for (const c of changes) {
      const k = recordKey(c.coll, c.key);
      let r = this.records.get(k);
      if (r !== undefined && r.until <= now) r = undefined;
      if (r === undefined) {
        r = { vars: new Map(), expires: new Map(), createTime: now, lastUpdate: now, updateCounter: 0, until: 0 };
      } else {
        pruneExpired(r, now);
      }
      // re-inserted on every write, so the Map's order is least recently written first
      this.records.delete(k);
      this.records.set(k, r);
      for (const o of c.ops) {
        switch (o.op) {
          case 'set':
            r.vars.set(o.name, o.value);
            break;
          case 'add':
            r.vars.set(o.name, addTo(r.vars.get(o.name), o.delta));
            break;
          case 'del':
            r.vars.delete(o.name);
            r.expires.delete(o.name);
            break;
          case 'expire':
            if (r.vars.has(o.name)) r.expires.set(o.name, now + o.seconds * 1000);
            break;
        }
      }
      r.lastUpdate = now;
      r.updateCounter++;
      r.until = now + c.timeout * 1000;
    }
    while (this.records.size > this.maxRecords) {
      const oldest = this.records.keys().next().value as string;
      this.records.delete(oldest);
      this.evicted++;
    }
  }
}

function pruneExpired(r: MemRecord, now: number): void {
  if (r.expires.size === 0) return;
  for (const [name, at] of r.expires) {
    if (at <= now) {
      r.expires.delete(name);
      r.vars.delete(name);
    }
  }
}
