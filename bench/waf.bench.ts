/**
 * WAF throughput: `palisade waf serve` (CRS 3.3.4, paranoia 1, blocking) against nginx +
 * libmodsecurity 3 + the same CRS from Debian (one nginx worker, SecRuleEngine On, the Debian
 * recommended ModSecurity settings with the audit log off), both answering from themselves on
 * loopback, measured side by side with wrk for three requests: a benign browser GET, a 2 KB
 * urlencoded form POST and an SQL-injection GET (blocked by both).
 *
 * Like traffic from many users of one site, the values that identify a user or an item change
 * from request to request (item ids, session and analytics cookies, the form's names, addresses,
 * tokens and notes, the injected number), drawn by wrk's Lua per request, while the browser's
 * header lines and the parameter names stay the same: a server that remembers what it has seen
 * gains only where real traffic repeats. Both servers get the same stream.
 *
 * Needs the Debian packages nginx, libnginx-mod-http-modsecurity, modsecurity-crs and wrk.
 * Each side runs RUNS times per request (PALISADE_BENCH_RUNS, default 3), interleaved (ours,
 * ModSecurity, ours, ...); req/s and p99 are the medians of the runs, req/s with its min–max.
 * PALISADE_BENCH_WAF_SECONDS sets the duration of each wrk run (default 10).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { CLI, commandLine, medianOf, OUT, parseLatency, RUNS, range, runsNote, type Sample, stop, waitPort } from './common.js';

const SECONDS = Number(process.env.PALISADE_BENCH_WAF_SECONDS ?? 10);
const CONNECTIONS = 16;
export const MODSEC_SO = '/usr/lib/nginx/modules/ngx_http_modsecurity_module.so';

const BROWSER_HEADERS: Record<string, string> = {
  Host: 'localhost',
  'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
  'Accept-Language': 'en-US,en;q=0.9',
  'Accept-Encoding': 'gzip, deflate, br',
  Cookie: 'session=3f9a1c07d2b84e55; theme=dark; _ga=GA1.2.123456789.1700000000',
  Referer: 'https://localhost/products',
};

export function formBody(): string {
  // a 2 KB checkout form: contact and address fields plus a free-text note
  const fields: [string, string][] = [
    ['first_name', 'Jane'],
    ['last_name', 'Doe'],
    ['email', 'jane.doe@example.com'],
    ['phone', '+1 555 0100 2233'],
    ['address_line1', '1234 Main Street'],
    ['address_line2', 'Apartment 5B'],
    ['city', 'Springfield'],
    ['state', 'IL'],
    ['postal_code', '62704'],
    ['country', 'US'],
    ['shipping_method', 'standard'],
    ['card_holder', 'Jane Doe'],
    ['newsletter', 'yes'],
    ['csrf_token', '9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c'],
  ];
  const sentence = 'Please leave the parcel with the neighbour at number twelve if nobody answers the door. ';
  let note = '';
  const head = fields.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  while (head.length + 6 + encodeURIComponent(note + sentence).length <= 2048) note += sentence;
  return `${head}&notes=${encodeURIComponent(note.trim())}`;
}

interface Case {
  name: string;
  /** one example of the request (sent once to check both servers' answers) */
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  expect: number;
  /** Lua for wrk's `request()`: builds each request with fresh values (helpers in LUA_PRELUDE) */
  lua: string;
}

/** Lua helpers: random hex and digit strings, a pick from a list, form encoding, the browser's
 * header lines, and a fresh set of cookies */
const LUA_PRELUDE = `
local hexd = "0123456789abcdef"
local function hex(n) local t = {} for i = 1, n do local k = math.random(1, 16) t[i] = hexd:sub(k, k) end return table.concat(t) end
local function num(n) local t = { tostring(math.random(1, 9)) } for i = 2, n do t[i] = tostring(math.random(0, 9)) end return table.concat(t) end
local function pick(a) return a[math.random(1, #a)] end
local function enc(s) return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end)) end
local headers = {}
${Object.entries(BROWSER_HEADERS)
  .filter(([k]) => k !== 'Cookie')
  .map(([k, v]) => `headers[${luaString(k)}] = ${luaString(v)}`)
  .join('\n')}
-- the form's free-text note is made of these (already form-encoded)
local sentences = {}
for i, t in ipairs({ "Please leave the parcel with the neighbour at number twelve if nobody answers the door. ", "Ring the bell twice and wait, the intercom is slow. ", "Deliver after six in the evening on weekdays, please. ", "The side gate is open; leave it by the garage. " }) do sentences[i] = enc(t) end
local function cookies()
  headers["Cookie"] = "session=" .. hex(16) .. "; theme=" .. pick({ "dark", "light" }) .. "; _ga=GA1.2." .. num(9) .. "." .. num(10)
end
`;

const CASES: Case[] = [
  {
    name: 'benign browser GET',
    method: 'GET',
    path: '/products/view?id=1234&category=shoes&sort=price_asc',
    headers: BROWSER_HEADERS,
    expect: 200,
    lua: `cookies()
  return wrk.format("GET", "/products/view?id=" .. num(4) .. "&category=" .. pick({ "shoes", "shirts", "bags", "hats" }) .. "&sort=" .. pick({ "price_asc", "price_desc", "newest" }), headers)`,
  },
  {
    name: '2 KB form POST',
    method: 'POST',
    path: '/checkout',
    headers: { ...BROWSER_HEADERS, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: formBody(),
    expect: 200,
    lua: `cookies()
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  local f, l = pick({ "Jane", "John", "Maria", "Wei", "Ahmed", "Olga", "Carlos", "Aiko" }), pick({ "Doe", "Smith", "Garcia", "Chen", "Khan", "Ivanova", "Silva", "Tanaka" })
  local fields = {
    { "first_name", f }, { "last_name", l }, { "email", f:lower() .. "." .. l:lower() .. num(3) .. "@example.com" },
    { "phone", "+1 555 " .. num(4) .. " " .. num(4) }, { "address_line1", num(4) .. " " .. pick({ "Main Street", "Oak Avenue", "Elm Road", "Park Lane" }) },
    { "address_line2", "Apartment " .. num(2) .. pick({ "A", "B", "C" }) }, { "city", pick({ "Springfield", "Riverside", "Franklin", "Madison" }) },
    { "state", pick({ "IL", "CA", "NY", "TX" }) }, { "postal_code", num(5) }, { "country", "US" }, { "shipping_method", pick({ "standard", "express" }) },
    { "card_holder", f .. " " .. l }, { "newsletter", pick({ "yes", "no" }) }, { "csrf_token", hex(40) },
  }
  local parts = {}
  for i, kv in ipairs(fields) do parts[i] = kv[1] .. "=" .. enc(kv[2]) end
  local head = table.concat(parts, "&")
  local note, n = {}, #head + 7
  while true do
    local e = pick(sentences)
    if n + #e >= 2000 then break end
    note[#note + 1] = e
    n = n + #e
  end
  return wrk.format("POST", "/checkout", headers, head .. "&notes=" .. table.concat(note))`,
  },
  {
    name: 'SQL-injection GET',
    method: 'GET',
    path: '/search?q=1%27%20UNION%20SELECT%20username%2Cpassword%20FROM%20users--',
    headers: BROWSER_HEADERS,
    expect: 403,
    lua: `cookies()
  return wrk.format("GET", "/search?q=" .. num(2) .. "%27%20UNION%20SELECT%20username%2Cpassword%20FROM%20users--", headers)`,
  },
];

function luaString(s: string): string {
  return JSON.stringify(s);
}

function wrkScript(c: Case, file: string): void {
  writeFileSync(file, `${LUA_PRELUDE}\nrequest = function()\n  ${c.lua}\nend\n`);
}

interface WrkResult {
  rps: number;
  p99ms: number;
  non2xx: number;
  requests: number;
}

/** Servers run on CPU 0 and wrk on CPU 1 (when there are two), so the load generator does not
 * take CPU from the server under test; both servers get the same treatment. */
const PIN = spawnSync('which', ['taskset']).status === 0 && (availableParallelism?.() ?? 1) >= 2;

function pinned(cpu: number, cmd: string, args: string[]): [string, string[]] {
  return PIN ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args];
}

function wrkCommand(port: number, script: string): [string, string[]] {
  return pinned(1, 'wrk', ['-t1', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '--latency', '-s', script, `http://127.0.0.1:${port}`]);
}

function runWrk(port: number, script: string): WrkResult {
  const [cmd, args] = wrkCommand(port, script);
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  const out = r.stdout ?? '';
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const p = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return { rps, p99ms: p ? parseLatency(p[1], p[2]) : Number.NaN, non2xx, requests };
}

/** One raw request, returning the status line's code (to check both servers answer as expected). */
function probe(port: number, c: Case): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    let head = `${c.method} ${c.path} HTTP/1.1\r\n`;
    for (const [k, v] of Object.entries(c.headers)) head += `${k}: ${v}\r\n`;
    if (c.body !== undefined) head += `Content-Length: ${Buffer.byteLength(c.body)}\r\n`;
    head += 'Connection: close\r\n\r\n';
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('latin1');
    });
    sock.on('end', () => resolve(Number(/^HTTP\/1\.\d (\d{3})/.exec(buf)?.[1] ?? 0)));
    sock.on('error', reject);
    sock.write(head + (c.body ?? ''));
  });
}

/**
 * libmodsecurity's rules file with the CRS, as Debian recommends it (engine on, audit log off):
 * this bench's and the edge bench's full-stack peer.
 */
export function modsecRulesFile(dir: string): string {
  const modsec = join(dir, 'modsec.conf');
  const base = readFileSync('/etc/nginx/modsecurity.conf', 'utf8')
    .replace(/^SecRuleEngine .*$/m, 'SecRuleEngine On')
    .replace(/^SecAuditEngine .*$/m, 'SecAuditEngine Off')
    .replace(/^SecAuditLog .*$/m, `SecAuditLog ${join(dir, 'audit.log')}`)
    .replace(/^SecUnicodeMapFile .*$/m, 'SecUnicodeMapFile /etc/nginx/unicode.mapping 20127');
  // libmodsecurity 3.0 has no IncludeOptional: list what owasp-crs.load includes
  writeFileSync(
    modsec,
    `${base}
Include /etc/modsecurity/crs/crs-setup.conf
Include /etc/modsecurity/crs/REQUEST-900-EXCLUSION-RULES-BEFORE-CRS.conf
Include /usr/share/modsecurity-crs/rules/*.conf
Include /etc/modsecurity/crs/RESPONSE-999-EXCLUSION-RULES-AFTER-CRS.conf
`,
  );
  return modsec;
}

function nginxConfig(dir: string, port: number): string {
  const modsec = modsecRulesFile(dir);
  mkdirSync(join(dir, 'www'), { recursive: true });
  writeFileSync(join(dir, 'www', 'index.txt'), 'ok\n');
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `load_module ${MODSEC_SO};
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} error;
daemon off;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'body')};
  server {
    listen 127.0.0.1:${port};
    modsecurity on;
    modsecurity_rules_file ${modsec};
    root ${join(dir, 'www')};
    default_type text/plain;
    error_page 405 =200 /index.txt;
    location / { try_files /index.txt =404; }
  }
}
`,
  );
  return conf;
}

export default async function bench(): Promise<void> {
  for (const need of ['wrk', '/usr/sbin/nginx', MODSEC_SO, '/usr/share/modsecurity-crs/owasp-crs.load']) {
    if (need.startsWith('/') ? !existsSync(need) : spawnSync('which', [need]).status !== 0) {
      process.stdout.write(`skipped: ${need} is missing (Debian packages nginx, libnginx-mod-http-modsecurity, modsecurity-crs, wrk)\n`);
      return;
    }
  }
  const dir = join(OUT, 'waf');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const ourPort = 18590;
  const ngxPort = 18591;
  const oursCmd = pinned(0, process.execPath, [CLI, 'waf', 'serve', '--listen', `127.0.0.1:${ourPort}`, '--paranoia', '1', '--mode', 'block']);
  const ngxCmd = pinned(0, '/usr/sbin/nginx', ['-c', nginxConfig(dir, ngxPort), '-e', join(dir, 'error.log')]);
  const ours = spawn(...oursCmd, { stdio: 'ignore' });
  const ngx = spawn(...ngxCmd, { stdio: 'ignore' });
  try {
    await Promise.all([waitPort(ourPort), waitPort(ngxPort)]);
    process.stdout.write(
      `wrk -t1 -c${CONNECTIONS} -d${SECONDS}s, loopback${PIN ? ', servers on CPU 0 and wrk on CPU 1' : ''}; palisade waf serve (1 Node process) vs nginx 1 worker + libmodsecurity3 + CRS 3.3.4, both PL1 blocking\n`,
    );
    const node = (a: string) => (a === process.execPath ? 'node' : a);
    const show = ([cmd, args]: [string, string[]]) => commandLine(node(cmd), args.map(node), '');
    process.stdout.write(
      `ours: ${show(oursCmd)}\npeer: ${show(ngxCmd)} (${relative(process.cwd(), join(dir, 'modsec.conf'))}: Debian's recommended settings, SecRuleEngine On, audit log off, CRS)\n`,
    );
    process.stdout.write(`load: ${show(wrkCommand(ngxPort, join(dir, '<request>.lua')))} (and the same against port ${ourPort})\n`);
    process.stdout.write(`${runsNote()}; p99 is the median of the runs' p99\n\n`);
    process.stdout.write(
      `${'request'.padEnd(22)} ${'palisade req/s (min–max)'.padStart(26)} ${'p99'.padStart(9)} ${'modsec req/s (min–max)'.padStart(26)} ${'p99'.padStart(9)} ${'ratio'.padStart(7)}\n`,
    );
    const rps = (s: Sample<WrkResult>) => {
      const [lo, hi] = range(s, (r) => r.rps);
      return `${s.median.rps.toFixed(0)} (${lo.toFixed(0)}–${hi.toFixed(0)})`;
    };
    for (const c of CASES) {
      const script = join(dir, `${c.name.replace(/\W+/g, '-')}.lua`);
      wrkScript(c, script);
      const [sa, sb] = [await probe(ourPort, c), await probe(ngxPort, c)];
      // interleaved: load drifting during the runs affects both sides alike
      const [a, b] = medianOf(
        RUNS,
        () => runWrk(ourPort, script),
        () => runWrk(ngxPort, script),
      ) as [Sample<WrkResult>, Sample<WrkResult>];
      const note = sa !== c.expect || sb !== c.expect ? `  (status: palisade ${sa}, modsec ${sb}; expected ${c.expect})` : '';
      process.stdout.write(
        `${c.name.padEnd(22)} ${rps(a).padStart(26)} ${`${a.median.p99ms.toFixed(2)}ms`.padStart(9)} ${rps(b).padStart(26)} ${`${b.median.p99ms.toFixed(2)}ms`.padStart(9)} ${`${(a.median.rps / b.median.rps).toFixed(1)}x`.padStart(7)}${note}\n`,
      );
    }
  } finally {
    await Promise.all([stop(ours), stop(ngx)]);
  }
}
