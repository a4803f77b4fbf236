/** One rule exported to each target side by side, each with the exporter's notes on what it could not express. */
import type { Exports } from './types.js';

const TITLES: Record<string, string> = { nftables: 'nftables', iptables: 'iptables / ipset', flowspec: 'BGP Flowspec (ExaBGP)', cloudflare: 'Cloudflare' };

export function ExportPanes({ exports }: { exports: Exports }) {
  return (
    <div class="exports">
      {Object.entries(exports.targets).map(([target, x]) => (
        <section key={target} class="export" data-target={target} aria-labelledby={`export-${target}`}>
          <h3 id={`export-${target}`}>{TITLES[target] ?? target}</h3>
          {/* wrapped, not scrolled: a scrolling pre would need a keyboard stop of its own */}
          <pre class="export-text">{x.text.trim() === '' ? '(nothing exported)' : x.text}</pre>
          {x.notes.length > 0 && (
            <ul class="notes">
              {x.notes.map((note, i) => (
                <li key={i}>
                  <span class="mono">{note.rule}</span>: {note.reason}
                </li>
              ))}
            </ul>
          )}
        </section>
      ))}
    </div>
  );
}
