/** The access-log corpus (../shared/corpus/logs) and its GoAccess/jq truth files. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

export const LOGS = resolve(process.cwd(), '../shared/corpus/logs');
export const HAVE_CORPUS = existsSync(join(LOGS, 'MANIFEST.md'));

export interface Truth {
  log_format_label?: string | null;
  total_requests?: number | null;
  valid_requests?: number | null;
  failed_requests?: number | null;
  failed_lines_as_reported_by_goaccess?: string[];
  top5_requests_panel?: Array<{ path: string; hits: number; method: string; protocol: string }>;
  top5_static_requests_panel?: Array<{ path: string; hits: number }>;
  top5_not_found_panel?: Array<{ path: string; hits: number }>;
  json_inventory?: { lines_that_are_json_objects: number; lines_not_json_objects: number } | null;
}

/** Every log file with a truth file, as a path relative to LOGS. */
export function corpusFiles(): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.truth.json')) out.push(relative(LOGS, p.slice(0, -'.truth.json'.length)));
    }
  };
  if (HAVE_CORPUS) walk(LOGS);
  return out.sort();
}

export function truthOf(file: string): Truth {
  return JSON.parse(readFileSync(join(LOGS, `${file}.truth.json`), 'utf8')) as Truth;
}

/** GoAccess's --log-format in each truth file, as our format spec (null: a format we do not read). */
export const FORMAT_OF_LABEL: Record<string, string | null> = {
  COMBINED: 'combined',
  'COMBINED (Traefik CLF; trailing fields ignored)': 'combined',
  COMMON: 'common',
  CADDY: 'caddy',
  'custom vhost-without-port combined': 'apache:%v %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"',
  'custom vhost-without-port common': 'apache:%v %h %l %u %t "%r" %>s %b',
  'custom ssl_request_log': 'apache:%t %h %{SSL_PROTOCOL}x %{SSL_CIPHER}x "%r" %b',
  'custom vhost:port + combined + trailing number': 'apache:%v:%p %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %D',
  // AWS formats are not part of this reader yet.
  AWSALB: null,
  AWSELB: null,
  CLOUDFRONT: null,
};
