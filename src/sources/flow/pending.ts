/**
 * Data sets that arrive before their template (an exporter that just restarted, a collector that
 * just started, a template set later in the same datagram) are copied aside and decoded when the
 * template comes. The hold is bounded by count and by bytes; when full, the oldest set goes
 * (counted). Copies happen only on this rare path, never for a set whose template is known.
 */
import type { Domain } from './domains.js';

export interface HeldSet {
  domain: Domain;
  templateId: number;
  /** The set's records (without the 4-byte set header). */
  bytes: Uint8Array;
  /** The datagram header's export time (s) and, for v9, sysUpTime (ms): record times need them. */
  exportSecs: number;
  sysUptimeMs: number;
}

export class PendingSets {
  private held: HeldSet[] = [];
  private bytes = 0;

  constructor(
    readonly maxSets = 1024,
    readonly maxBytes = 4 * 1024 * 1024,
  ) {}

  get size(): number {
    return this.held.length;
  }

  get heldBytes(): number {
    return this.bytes;
  }

  /** Hold a copy of b[off, end); returns how many older sets were dropped to make room. */
  hold(domain: Domain, templateId: number, b: Uint8Array, off: number, end: number, exportSecs: number, sysUptimeMs: number): number {
    const len = end - off;
    if (len > this.maxBytes || this.maxSets === 0) return 1;
    let dropped = 0;
    while (this.held.length > 0 && (this.held.length >= this.maxSets || this.bytes + len > this.maxBytes)) {
      const old = this.held.shift() as HeldSet;
      this.bytes -= old.bytes.length;
      dropped++;
    }
    this.held.push({ domain, templateId, bytes: b.slice(off, end), exportSecs, sysUptimeMs });
    this.bytes += len;
    return dropped;
  }

  /** Remove and return the sets held for (domain, template id), oldest first. */
  take(domain: Domain, templateId: number): HeldSet[] | null {
    let out: HeldSet[] | null = null;
    for (let i = 0; i < this.held.length; i++) {
      const h = this.held[i] as HeldSet;
      if (h.domain === domain && h.templateId === templateId) {
        if (out === null) out = [];
        out.push(h);
      }
    }
    if (out === null) return null;
    this.held = this.held.filter((h) => !(h.domain === domain && h.templateId === templateId));
    for (const h of out) this.bytes -= h.bytes.length;
    return out;
  }

  /** Drop what waits for a domain that is going away; returns how many sets. */
  dropDomain(domain: Domain): number {
    const before = this.held.length;
    if (before === 0) return 0;
    this.held = this.held.filter((h) => h.domain !== domain);
    this.bytes = this.held.reduce((n, h) => n + h.bytes.length, 0);
    return before - this.held.length;
  }

  /** Whether anything waits for this domain (cheap check before `take` on every template). */
  has(domain: Domain): boolean {
    for (let i = 0; i < this.held.length; i++) if ((this.held[i] as HeldSet).domain === domain) return true;
    return false;
  }
}
