/**
 * Edge proxy throughput (issue 16): `palisade edge --workers 2` with no phases (a config with
 * `edge: { mode: off, waf: off }`, no lists, rules or rate limits) against
 * nginx as a plain reverse proxy (Debian nginx, worker_processes 2, proxy_pass to a keep-alive
 * upstream), both in front of the same fast origin (an nginx worker answering `return 200`),
 * loaded with wrk over loopback with one benign browser GET. The issue's target: at least 0.6x
 * nginx's req/s.
 *
 * Each side runs RUNS times (PALISADE_BENCH_RUNS, default 3), interleaved (ours, nginx, ours,
 * ...); req/s and p99 are medians of the runs. Every wrk run holds /tmp/palisade-bench.lock
 * (flock), so benches of several sessions on this machine do not measure each other.
 * PALISADE_BENCH_EDGE_SECONDS sets each run's duration (default 10).
 *
 * Nothing is pinned to a CPU: the proxies' two processes, the origin and wrk share the machine
 * alike for both sides (on a 2-core machine the load generator and the origin take a share).
 *
 * Then the full stack (fullStack() below): the edge with its phases against nginx with limit_req,
 * ModSecurity and the CRS, on a browser GET and a 2 KB form POST.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { CLI, commandLine, medianOf, OUT, parseLatency, passFail, RUNS, range, runsNote, type Sample, stop, waitPort } from './common.js';
import { formBody, MODSEC_SO, modsecRulesFile } from './waf.bench.js';

const SECONDS = Number(process.env.PALISADE_BENCH_EDGE_SECONDS ?? 10);
const CONNECTIONS = 32;
const LOCK = '/tmp/palisade-bench.lock';
const TARGET = 0.6;

/** A browser's GET for a page, as wrk sends it on every request. */
const BROWSER_HEADERS: Array<[string, string]> = [
  ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'],
  ['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8'],
  ['Accept-Language', 'en-US,en;q=0.9'],
  ['Accept-Encoding', 'gzip, deflate, br'],
  ['Cookie', 'session=3f9a1c07d2b84e55; theme=dark; _ga=GA1.2.123456789.1700000000'],
  ['Referer', 'https://localhost/products'],
];
const PATH = '/products/view?id=1234&category=shoes';

interface WrkResult {
  rps: number;
  p99ms: number;
  non2xx: number;
  errors: number;
  /** CPU time the proxy's processes spent per request, in microseconds: steadier than req/s on a shared machine. */
  cpuUs: number;
}

/** A process and its children (the proxy's primary or master and its workers). */
function tree(pid: number): number[] {
  const r = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  return [
    pid,
    ...(r.stdout ?? '')
      .split('\n')
      .filter((l) => l !== '')
      .map(Number),
  ];
}

/** User + system CPU seconds of the processes, from /proc (clock ticks at 100 Hz). */
function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const p of pids) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8');
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
      ticks += Number(rest[11]) + Number(rest[12]);
    } catch {
      // gone: its time is lost from the sum, which only makes the figure smaller
    }
  }
  return ticks / 100;
}

function wrkArgs(port: number, script?: string): string[] {
  // A script sets its own method, body and headers (the POST); otherwise the browser's GET.
  const how = script !== undefined ? ['-s', script] : BROWSER_HEADERS.flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  return ['-t1', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '--latency', ...how, `http://127.0.0.1:${port}${PATH}`];
}

/** One wrk run under the bench lock, with the CPU time of the proxy's processes (`pid` and children). */
function runWrk(port: number, pid: number, script?: string): WrkResult {
  const pids = tree(pid);
  // The proxy is idle while wrk waits for the lock: the CPU read around both counts only the run.
  const cpu0 = cpuSeconds(pids);
  const r = spawnSync('flock', [LOCK, 'wrk', ...wrkArgs(port, script)], { encoding: 'utf8' });
  const cpu1 = cpuSeconds(pids);
  const out = r.stdout ?? '';
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const p = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const err = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
    p99ms: p ? parseLatency(p[1] as string, p[2] as string) : Number.NaN,
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    errors: err ? err.slice(1).reduce((a, x) => a + Number(x), 0) : 0,
    cpuUs: requests > 0 ? ((cpu1 - cpu0) * 1e6) / requests : Number.NaN,
  };
}

/** One GET with the browser's headers: the status, to check each side answers 200. */
function probe(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host: '127.0.0.1', port });
    let head = `GET ${PATH} HTTP/1.1\r\nHost: localhost\r\n`;
    for (const [k, v] of BROWSER_HEADERS) head += `${k}: ${v}\r\n`;
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
    });
    s.on('end', () => resolve(Number(/^HTTP\/1\.\d (\d{3})/.exec(buf)?.[1] ?? 0)));
    s.on('error', reject);
    s.write(`${head}Connection: close\r\n\r\n`);
  });
}

function nginxConf(dir: string, name: string, body: string): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  const conf = join(d, 'nginx.conf');
  writeFileSync(
    conf,
    `pid ${join(d, 'nginx.pid')};
error_log ${join(d, 'error.log')} error;
daemon off;
${body}`,
  );
  return conf;
}

function originConf(dir: string, port: number): string {
  return nginxConf(
    dir,
    'origin',
    `worker_processes 1;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'origin', 'body')};
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    default_type text/html;
    location / { return 200 "<!doctype html><title>ok</title><p>product page</p>\\n"; }
  }
}
`,
  );
}

/** nginx as a plain reverse proxy: what a site would run in front of its origin. */
function proxyConf(dir: string, port: number, originPort: number): string {
  return nginxConf(
    dir,
    'proxy',
    `worker_processes 2;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'proxy', 'body')};
  proxy_temp_path ${join(dir, 'proxy', 'proxy')};
  keepalive_requests 1000000;
  upstream origin {
    server 127.0.0.1:${originPort};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }
}
`,
  );
}

interface Ports {
  origin: number;
  ours: number;
  nginx: number;
  /** Process ids of our primary and nginx's master (their workers are found as children). */
  oursPid: number;
  nginxPid: number;
}

/** Proxy only: no phases on our side, no limits or WAF on nginx's. */
function proxyOnly(ports: Ports): void {
  process.stdout.write(`\nproxy only: benign browser GET ${PATH}\n`);
  process.stdout.write(
    `${'proxy'.padEnd(34)} ${'req/s median (min–max)'.padStart(26)} ${'p99'.padStart(10)} ${'CPU µs/req'.padStart(11)} ${'non-2xx'.padStart(8)} ${'errors'.padStart(7)}\n`,
  );
  const [a, b] = medianOf(
    RUNS,
    () => runWrk(ports.ours, ports.oursPid),
    () => runWrk(ports.nginx, ports.nginxPid),
  ) as [Sample<WrkResult>, Sample<WrkResult>];
  const line = (label: string, s: Sample<WrkResult>) => {
    const [lo, hi] = range(s, (r) => r.rps);
    return `${label.padEnd(34)} ${`${s.median.rps.toFixed(0)} (${lo.toFixed(0)}–${hi.toFixed(0)})`.padStart(26)} ${`${s.median.p99ms.toFixed(2)} ms`.padStart(10)} ${s.median.cpuUs.toFixed(1).padStart(11)} ${String(s.median.non2xx).padStart(8)} ${String(s.median.errors).padStart(7)}\n`;
  };
  process.stdout.write(line('palisade edge --workers 2', a));
  process.stdout.write(line('nginx proxy, worker_processes 2', b));
  const ratio = a.median.rps / b.median.rps;
  process.stdout.write(`ratio: ${ratio.toFixed(2)}x nginx's req/s (target ≥ ${TARGET}x): ${passFail(ratio >= TARGET)}\n`);
  // With the machine to itself, the proxy's CPU per request decides the ratio; on a shared one
  // req/s moves with the neighbours' load while this stays put.
  process.stdout.write(
    `CPU per request: ${(a.median.cpuUs / b.median.cpuUs).toFixed(1)}x nginx's (the req/s ratio the proxies' CPU alone would allow: ${(b.median.cpuUs / a.median.cpuUs).toFixed(2)}x)\n`,
  );
}

/** 1,000 prefixes for the block lists on both sides (none holds 127.0.0.1: every request is checked, none stopped). */
function blockPrefixes(): string[] {
  const out: string[] = [];
  for (let i = 0; i < 1000; i++) out.push(`${11 + (i % 200)}.${(i * 7) % 256}.${(i * 13) % 256}.0/24`);
  return [...new Set(out)];
}

/** Our full stack: the list, two custom rules, a rate limit counting every request (never reached), the CRS at PL1 blocking. */
function fullConfig(dir: string): string {
  const drop = join(dir, 'drop.txt');
  writeFileSync(drop, `${blockPrefixes().join('\n')}\n`);
  const file = join(dir, 'full.yaml');
  writeFileSync(
    file,
    [
      'edge:',
      '  mode: off',
      '  lists:',
      `    drop: { kind: block, file: ${drop} }`,
      '  ruleset:',
      '    - id: no-wp',
      '      expression: starts_with(http.request.uri.path, "/wp-")',
      '      action: block',
      '    - id: no-scanners',
      '      expression: http.user_agent contains "sqlmap" or http.user_agent contains "nikto"',
      '      action: block',
      '    - id: per-client',
      '      expression: http.request.method ne ""',
      '      action: block',
      '      ratelimit: { characteristics: [ip.src], period: 60, requests_per_period: 16000000, mitigation_timeout: 60 }',
      '  waf: { paranoia: 1, mode: block }',
      '',
    ].join('\n'),
  );
  return file;
}

/** nginx's full stack: the same prefixes in a geo block, limit_req counting every request (never reached), ModSecurity + CRS PL1. */
function fullNginxConf(dir: string, port: number, originPort: number): string {
  const d = join(dir, 'full-nginx');
  mkdirSync(d, { recursive: true });
  const modsec = modsecRulesFile(d);
  return nginxConf(
    dir,
    'full-nginx',
    `load_module ${MODSEC_SO};
worker_processes 2;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(d, 'body')};
  proxy_temp_path ${join(d, 'proxy')};
  keepalive_requests 1000000;
  geo $blocked {
    default 0;
${blockPrefixes()
  .map((p) => `    ${p} 1;`)
  .join('\n')}
  }
  limit_req_zone $binary_remote_addr zone=per_client:10m rate=1000000r/s;
  upstream origin {
    server 127.0.0.1:${originPort};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    modsecurity on;
    modsecurity_rules_file ${modsec};
    location / {
      if ($blocked) { return 403; }
      limit_req zone=per_client burst=1000000 nodelay;
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`,
  );
}

/** A wrk script sending the 2 KB form POST with the browser's headers. */
function postScript(dir: string): string {
  const file = join(dir, 'post.lua');
  const headers = BROWSER_HEADERS.map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`).join('\n');
  writeFileSync(
    file,
    `wrk.method = "POST"
wrk.body = ${JSON.stringify(formBody())}
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
${headers}
`,
  );
  return file;
}

/**
 * Full stack (issue 16): the edge with its phases (a 1,000-prefix block list, custom rules, a rate
 * limit on every request, the CRS at PL1 blocking) against nginx with the same list (geo),
 * limit_req and libmodsecurity + the same CRS, both with 2 workers in front of the same origin,
 * for a benign browser GET and a 2 KB form POST. Target: at least 10x nginx + ModSecurity's req/s.
 */
async function fullStack(dir: string, originPort: number): Promise<void> {
  if (!existsSync(MODSEC_SO)) {
    process.stdout.write(`\nfull stack: skipped: ${MODSEC_SO} missing (Debian libnginx-mod-http-modsecurity)\n`);
    return;
  }
  const oursPort = 18693;
  const ngxPort = 18694;
  const ngxCmd: [string, string[]] = ['/usr/sbin/nginx', ['-c', fullNginxConf(dir, ngxPort, originPort), '-e', join(dir, 'full-nginx', 'error.log')]];
  const oursCmd: [string, string[]] = [
    process.execPath,
    [CLI, 'edge', '--config', fullConfig(dir), '--listen', `127.0.0.1:${oursPort}`, '--origin', `http://127.0.0.1:${originPort}`, '--workers', '2'],
  ];
  const ngx = spawn(...ngxCmd, { stdio: 'ignore' });
  const ours = spawn(...oursCmd, { stdio: 'ignore' });
  try {
    await Promise.all([waitPort(ngxPort, 60_000), waitPort(oursPort, 90_000)]);
    const node = (a: string) => (a === process.execPath ? 'node' : a);
    process.stdout.write(`\nfull stack: lists + custom rules + a rate limit + WAF (CRS PL1, blocking), 2 workers each\n`);
    process.stdout.write(
      `ours:   ${commandLine(node(oursCmd[0]), oursCmd[1].map(node), '')}\npeer:   ${commandLine(ngxCmd[0], ngxCmd[1], '')} (geo list, limit_req, ModSecurity 3 + CRS)\n`,
    );
    const [so, sn] = [await probe(oursPort), await probe(ngxPort)];
    if (so !== 200 || sn !== 200) process.stdout.write(`warning: probe status palisade ${so}, nginx ${sn} (expected 200 from both)\n`);
    const post = postScript(dir);
    spawnSync('wrk', ['-t1', '-c8', '-d2s', `http://127.0.0.1:${oursPort}${PATH}`]);
    spawnSync('wrk', ['-t1', '-c8', '-d2s', `http://127.0.0.1:${ngxPort}${PATH}`]);
    process.stdout.write(
      `${'request'.padEnd(12)} ${'palisade edge req/s'.padStart(22)} ${'p99'.padStart(10)} ${'nginx+ModSec req/s'.padStart(22)} ${'p99'.padStart(10)} ${'ratio'.padStart(8)}  non-2xx (ours/nginx)\n`,
    );
    for (const [name, script] of [
      ['GET', undefined],
      ['POST 2 KB', post],
    ] as const) {
      const [a, b] = medianOf(
        RUNS,
        () => runWrk(oursPort, ours.pid ?? 0, script),
        () => runWrk(ngxPort, ngx.pid ?? 0, script),
      ) as [Sample<WrkResult>, Sample<WrkResult>];
      const ratio = a.median.rps / b.median.rps;
      process.stdout.write(
        `${name.padEnd(12)} ${a.median.rps.toFixed(0).padStart(22)} ${`${a.median.p99ms.toFixed(2)} ms`.padStart(10)} ${b.median.rps.toFixed(0).padStart(22)} ${`${b.median.p99ms.toFixed(2)} ms`.padStart(10)} ${`${ratio.toFixed(1)}x`.padStart(8)}  ${a.median.non2xx}/${b.median.non2xx}   target >= 10x: ${passFail(ratio >= 10)}\n`,
      );
    }
  } finally {
    await Promise.all([stop(ngx), stop(ours)]);
  }
}

export default async function bench(): Promise<void> {
  for (const need of ['wrk', 'flock', '/usr/sbin/nginx']) {
    if (need.startsWith('/') ? !existsSync(need) : spawnSync('which', [need]).status !== 0) {
      process.stdout.write(`skipped: ${need} is missing (Debian packages nginx, wrk, util-linux)\n`);
      return;
    }
  }
  const dir = join(OUT, 'edge');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const ports: Ports = { origin: 18690, ours: 18691, nginx: 18692, oursPid: 0, nginxPid: 0 };
  const originCmd: [string, string[]] = ['/usr/sbin/nginx', ['-c', originConf(dir, ports.origin), '-e', join(dir, 'origin', 'error.log')]];
  const ngxCmd: [string, string[]] = ['/usr/sbin/nginx', ['-c', proxyConf(dir, ports.nginx, ports.origin), '-e', join(dir, 'proxy', 'error.log')]];
  // No phases: palisade edge otherwise runs the CRS WAF and live L7 protection by default.
  const noPhases = join(dir, 'no-phases.yaml');
  writeFileSync(noPhases, 'edge:\n  mode: off\n  waf: off\n');
  const oursCmd: [string, string[]] = [
    process.execPath,
    [CLI, 'edge', '--config', noPhases, '--listen', `127.0.0.1:${ports.ours}`, '--origin', `http://127.0.0.1:${ports.origin}`, '--workers', '2'],
  ];
  const ngx = spawn(...ngxCmd, { stdio: 'ignore' });
  const ours = spawn(...oursCmd, { stdio: 'ignore' });
  const procs = [spawn(...originCmd, { stdio: 'ignore' }), ngx, ours];
  ports.oursPid = ours.pid ?? 0;
  ports.nginxPid = ngx.pid ?? 0;
  try {
    await Promise.all([waitPort(ports.origin), waitPort(ports.nginx), waitPort(ports.ours)]);
    const node = (a: string) => (a === process.execPath ? 'node' : a);
    const show = ([cmd, args]: [string, string[]]) => commandLine(node(cmd), args.map(node), '');
    process.stdout.write(`origin: ${show(originCmd)} (return 200, 1 worker)\nours:   ${show(oursCmd)}\npeer:   ${show(ngxCmd)} (proxy_pass, keepalive 64 upstream, 2 workers)\n`);
    process.stdout.write(`load:   flock ${LOCK} wrk -t1 -c${CONNECTIONS} -d${SECONDS}s --latency -H ... http://127.0.0.1:PORT${PATH}\n`);
    process.stdout.write(`${runsNote()}; p99 is the median of the runs' p99; nothing pinned\n`);
    const [so, sn] = [await probe(ports.ours), await probe(ports.nginx)];
    if (so !== 200 || sn !== 200) process.stdout.write(`warning: probe status palisade ${so}, nginx ${sn} (expected 200 from both)\n`);
    // Warm both (JIT, origin keep-alive pools) outside the measured runs.
    spawnSync('wrk', ['-t1', '-c8', '-d2s', `http://127.0.0.1:${ports.ours}${PATH}`]);
    spawnSync('wrk', ['-t1', '-c8', '-d2s', `http://127.0.0.1:${ports.nginx}${PATH}`]);
    proxyOnly(ports);
    await fullStack(dir, ports.origin);
  } finally {
    await Promise.all(procs.map(stop));
  }
}
