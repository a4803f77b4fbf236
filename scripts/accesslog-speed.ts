/**
 * Access-log reader speed on one core: lines/s for nginx `combined` (given and detected) and for
 * Cloudflare Logpush JSON, over files of N lines (default 1 M) built here by varying corpus lines
 * (client address, time, a path segment), read end to end through readAccessLog with a callback
 * that reads the status, time and path of each record. Not a test: figures depend on the machine.
 *
 *   node --import tsx scripts/accesslog-speed.ts [lines]
 *   (on a shared machine: flock /tmp/palisade-bench.lock node --import tsx scripts/accesslog-speed.ts)
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readAccessLog } from '../src/sources/accesslog/reader.js';
import { Slot } from '../src/sources/accesslog/view.js';

const CORPUS = resolve(process.cwd(), '../shared/corpus/logs');
const N = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'palisade-accesslog-speed-'));

function lines(file: string): string[] {
  return readFileSync(join(CORPUS, file), 'latin1')
    .split('\n')
    .filter((l) => l.length > 0);
}

/** N lines from `base`, line i changed by `vary(line, i)`, written in 64k-line pieces. */
function build(name: string, base: string[], vary: (l: string, i: number) => string): string {
  const path = join(dir, name);
  const parts: string[] = [];
  writeFileSync(path, '');
  for (let i = 0; i < N; i++) {
    parts.push(vary(base[i % base.length], i));
    if (parts.length === 65536 || i === N - 1) {
      writeFileSync(path, `${parts.join('\n')}\n`, { flag: 'a', encoding: 'latin1' });
      parts.length = 0;
    }
  }
  return path;
}

const shop = lines('lnav/logfile_shop_access_log.0');
const combined = build('combined.log', shop, (l, i) => {
  // A different client and second per line; the path gets a counter so paths vary too.
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const sp = l.indexOf(' ');
  const ss = String(i % 60).padStart(2, '0');
  return `${ip}${l.slice(sp)}`.replace(/:(\d\d) \+0330\]/, `:${ss} +0330]`).replace(/ \/([^ ]*) HTTP/, ` /$1${i % 7 === 0 ? `?v=${i}` : ''} HTTP`);
});
const cf = lines('lnav/logfile_cloudflare.1');
const cloudflare = build('cloudflare.json', cf, (l, i) => {
  const o = JSON.parse(l) as Record<string, unknown>;
  o.ClientIP = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  o.EdgeStartTimestamp = 1712790000000000000 + i * 1_000_000;
  o.ClientRequestURI = `${o.ClientRequestURI}${i % 5 === 0 ? `?p=${i}` : ''}`;
  return JSON.stringify(o);
});

async function run(label: string, path: string, format: string | undefined): Promise<number> {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const info = await readAccessLog(
    path,
    (v) => {
      sink += v.status + (v.timeMs & 1) + (v.get(Slot.PATH)?.length ?? 0);
    },
    format === undefined ? {} : { format },
  );
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1e6;
  const mb = statSync(path).size / 1e6;
  console.log(
    `${label.padEnd(32)} ${info.lines} lines (${mb.toFixed(0)} MB): wall ${s.toFixed(2)} s = ${(info.lines / s / 1e6).toFixed(2)} M lines/s; cpu ${cpu.toFixed(2)} s = ${(info.lines / cpu / 1e6).toFixed(2)} M lines/s; format ${info.format}${info.detected ? ' (detected)' : ''}, records ${info.records}, malformed ${info.malformed}`,
  );
  return sink;
}

try {
  // A warm-up pass of each so the figures are of optimised code.
  await readAccessLog(combined, () => {}, { format: 'combined' });
  await readAccessLog(cloudflare, () => {}, { format: 'cloudflare' });
  console.log(`node ${process.version}, one thread; "cpu" is this process's user+system time (the machine may be shared)`);
  await run('nginx combined (format given)', combined, 'combined');
  await run('nginx combined (detected)', combined, undefined);
  await run('Cloudflare JSON (format given)', cloudflare, 'cloudflare');
  await run('Cloudflare JSON (detected)', cloudflare, undefined);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
