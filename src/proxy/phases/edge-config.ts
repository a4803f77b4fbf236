/**
 * The edge's configuration from what the CLI has: palisade.yaml's `edge:` section when given
 * (config/edge.ts reads and validates it), every default when not, and the `--block-list FILE`
 * flags (repeatable) on top: each file a block list in any format the rulesets read (plain,
 * Spamhaus DROP, FireHOL netset, CSV, JSON; detected from the name and the text).
 */
import { basename } from 'node:path';
import { defaultEdgeOptions, type EdgeOptions, loadEdgeConfig } from '../../config/edge.js';
import { InputError } from '../../core/errors.js';
import { IpList } from '../../mitigate/lists.js';

export interface EdgeFlags {
  /** `--config palisade.yaml` */
  config?: string;
  /** `--block-list FILE`, in the order given */
  blockLists?: readonly string[];
}

/** One block list per file, named `block_list_<n>` (n from 1, in order). Lines that are not addresses or prefixes are an error naming file and line. */
export function blockListsFromFiles(files: readonly string[], taken: ReadonlySet<string> = new Set()): IpList[] {
  const out: IpList[] = [];
  let n = 0;
  for (const f of files) {
    let name: string;
    do name = `block_list_${++n}`;
    while (taken.has(name));
    const list = new IpList({ name, kind: 'block' }).addFile(f);
    const errors = list.problems.filter((p) => p.severity === 'error');
    if (errors.length > 0) {
      const shown = errors.slice(0, 5).map((p) => `${f}:${p.line}: ${p.message}`);
      if (errors.length > 5) shown.push(`... and ${errors.length - 5} more in ${basename(f)}`);
      throw new InputError(`--block-list ${f}: not a list of addresses or prefixes\n${shown.join('\n')}`, 'E_INPUT');
    }
    out.push(list);
  }
  return out;
}

/** palisade.yaml's edge section (or the defaults), with the `--block-list` files added. */
export function edgeOptionsFromFlags(flags: EdgeFlags): EdgeOptions {
  const opts = flags.config === undefined ? defaultEdgeOptions() : loadEdgeConfig(flags.config);
  if (flags.blockLists !== undefined && flags.blockLists.length > 0) {
    const taken = new Set(opts.lists.map((l) => l.name));
    opts.lists = [...opts.lists, ...blockListsFromFiles(flags.blockLists, taken)];
  }
  return opts;
}

/**
 * What a reload can keep from the running gate: its WAF when the `waf` section is unchanged (a
 * CRS load takes most of a second), its counter store when `counters` is (the limits' state
 * survives the reload). Pass them to createEdgeGate's deps; the store then stays the caller's to close.
 */
export function keepOnReload(prev: EdgeOptions, next: EdgeOptions): { waf: boolean; counters: boolean } {
  return {
    // the WAF keeps its persistent collections in the counter store: a new store, a new WAF
    waf: JSON.stringify(prev.waf) === JSON.stringify(next.waf) && JSON.stringify(prev.counters) === JSON.stringify(next.counters),
    counters: JSON.stringify(prev.counters) === JSON.stringify(next.counters),
  };
}
