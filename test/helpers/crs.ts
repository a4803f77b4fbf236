/** CRS rule patterns and payloads for the WAF tests: the installed CRS's @rx patterns and the
 * values the shared CRS regression tests send (plus a few benign ones). */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSecLang } from '../../src/waf/seclang.js';
import { urlDecodeUni } from '../../src/waf/transforms.js';

export const CRS_RULES = '/usr/share/modsecurity-crs/rules';
const TESTS = join(import.meta.dirname, '../../../shared/conformance/crs/tests');

export function crsPatterns(): Set<string> {
  const patterns = new Set<string>();
  for (const f of readdirSync(CRS_RULES).filter((n) => n.endsWith('.conf'))) {
    for (const d of parseSecLang(readFileSync(join(CRS_RULES, f), 'latin1'), join(CRS_RULES, f))) {
      if (d.name !== 'SecRule') continue;
      const op = (d.args[1] ?? '').replace(/^!/, '');
      if (op.startsWith('@rx ')) patterns.add(op.slice(4));
      else if (!op.startsWith('@')) patterns.add(op);
    }
  }
  return patterns;
}

export function samples(): string[] {
  const out = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.yaml')) {
        for (const m of readFileSync(p, 'utf8').matchAll(/^\s*(?:uri|data|User-Agent|Referer|Cookie):\s*["']?(.*?)["']?\s*$/gm)) {
          const v = urlDecodeUni(m[1]);
          if (v && !/[\n\r\0]/.test(v) && v.length < 2000) out.add(v);
        }
      }
    }
  };
  walk(TESTS);
  for (const b of ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36', 'text/html,application/xhtml+xml;q=0.9', 'hello world', '/index.php', '']) out.add(b);
  return [...out].filter((s) => s.length > 0);
}
