/**
 * Phase 1, IP access rules and lists: allow lists win (the request skips every later phase),
 * then block lists (403). The lists are mitigate/lists.ts's IpLists, from the edge's `lists:`,
 * the ruleset's lists and `--block-list` files; `dst` lists never apply (the edge tests clients).
 */
import { parseAddr } from '../../core/net/prefix.js';
import type { IpList } from '../../mitigate/lists.js';
import { ipv4Of } from '../../scheme/http.js';

export enum Access {
  NONE = 0,
  ALLOW = 1,
  BLOCK = 2,
}

export class IpAccess {
  private readonly allow: IpList[];
  private readonly block: IpList[];
  /** The list that decided the last `check` (for the rule ids of the log). */
  matched: IpList | null = null;

  constructor(lists: readonly IpList[]) {
    this.allow = lists.filter((l) => l.kind === 'allow' && l.match !== 'dst');
    this.block = lists.filter((l) => l.kind === 'block' && l.match !== 'dst');
  }

  get empty(): boolean {
    return this.allow.length === 0 && this.block.length === 0;
  }

  check(clientIp: string): Access {
    this.matched = null;
    if (this.empty) return Access.NONE;
    const v4 = ipv4Of(clientIp);
    let v6: Uint8Array | null = null;
    if (v4 < 0) {
      const a = parseAddr(clientIp);
      if (a === null || a.family !== 6) return Access.NONE;
      v6 = a.addr;
    }
    for (let i = 0; i < this.allow.length; i++) {
      const l = this.allow[i] as IpList;
      if (v6 === null ? l.has4(v4) : l.has6(v6, 0)) {
        this.matched = l;
        return Access.ALLOW;
      }
    }
    for (let i = 0; i < this.block.length; i++) {
      const l = this.block[i] as IpList;
      if (v6 === null ? l.has4(v4) : l.has6(v6, 0)) {
        this.matched = l;
        return Access.BLOCK;
      }
    }
    return Access.NONE;
  }
}
