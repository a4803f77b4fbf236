/**
 * Issue 15: `palisade analyze` on an HTTP access log, side by side with GoAccess and CrowdSec.
 *
 * Input: `palisade generate http-mixed -n L7_LINES --seed 1 --no-json` (default 2 M lines of nginx
 * combined + ` rt=.. host=..`: a 500-bot-class flood, busy and slow credential stuffing, fast and
 * slow scanners, slowloris and a flash crowd with carrier-NAT egresses), its truth beside it.
 *
 * Timed, RUNS times each (PALISADE_BENCH_RUNS), interleaved, every run under the bench lock:
 * - `palisade analyze LOG --json` (with detection) and, when it reads logs, `palisade filter -e
 *   'http.request.method eq "POST"' --count LOG`;
 * - GoAccess 1.7 (Debian `goaccess`) over the same file with a log-format that reads every field of
 *   the lines (the trailing rt= as %T, host= as %v), no global config, no progress output:
 *   `--process-and-exit` (its fastest non-interactive mode: parse and count every line, build its
 *   panels, write no report; lines it could not parse go to --invalid-requests) and `-o json`
 *   (the same plus the report, whose totals are held against the line count); the ratio is taken
 *   against the faster of the two, by each measure;
 * - CrowdSec 1.4.6 (Debian `crowdsec`, installed by bench/setup-crowdsec.sh) replaying a file with
 *   its stock nginx parser and HTTP scenarios: `crowdsec -c CONFIG -dsn file://LOG -type nginx`,
 *   its local API in the same process on 127.0.0.1 (the agent's alerts become decisions there),
 *   no Central API, a fresh SQLite database each run. CrowdSec reads a few hundred lines a second
 *   here, so it replays the same scenario generated at CROWDSEC_LINES lines (default 50 k: every
 *   attack of the mix in a few minutes of log time, per-address rates as in the big log) rather
 *   than the big log or its first lines (the first 100 k lines of the 2 M log hold no attack yet),
 *   bounded by CROWDSEC_TIMEOUT seconds a run. Lines/s is a per-line figure either way.
 * Figures: lines/s by wall time and by CPU time (user + system, all threads: the one-core figure;
 * analyze detects on a second thread and CrowdSec runs several goroutines), peak RSS.
 * Targets (issue 15): analyze with detection >= 500 k lines/s on one core, >= 1000x CrowdSec,
 * faster than GoAccess, peak memory < 500 MB.
 *
 * Detection: the addresses CrowdSec flagged (alerts; decisions beside) and those Palisade's attacks
 * attribute themselves to (`attacks[].sources.ips`), on CrowdSec's log, scored per attack group
 * against its truth, with the legitimate addresses each flagged; and Palisade's on the big log.
 *
 * Env: PALISADE_BENCH_RUNS, PALISADE_BENCH_L7_LINES (2000000), PALISADE_BENCH_L7_CROWDSEC_LINES
 * (50000), PALISADE_BENCH_L7_CROWDSEC_TIMEOUT (seconds a run, 900), PALISADE_BENCH_L7_SKIP
 * (comma list of sides to leave out: palisade, filter, goaccess, crowdsec).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { L7Truth } from '../src/generate/l7/generator.js';
import { BENCH_LOCK, CLI, commandLine, fmtRate, locked, medianOf, OUT, passFail, ROOT, ROW_HEAD, RUNS, row, runsNote, type Sample, type Timed, timed } from './common.js';
import { crowdsecFlagged, type Flagged, type PalisadeL7Output, palisadeFlagged, type Score, score } from './l7-score.js';

const SCENARIO = 'http-mixed';
const L7_LINES = numEnv('PALISADE_BENCH_L7_LINES', 2_000_000);
const CROWDSEC_LINES = numEnv('PALISADE_BENCH_L7_CROWDSEC_LINES', 50_000);
const CROWDSEC_TIMEOUT = numEnv('PALISADE_BENCH_L7_CROWDSEC_TIMEOUT', 900);
const SKIP = new Set((process.env.PALISADE_BENCH_L7_SKIP ?? '').split(',').map((s) => s.trim()));
const CROWDSEC_PORT = 47480;
const TARGET_LPS = 500_000;
const TARGET_VS_CROWDSEC = 1000;
const TARGET_RSS_MB = 500;
const FILTER_EXPR = 'http.request.method eq "POST"';

/** The nginx format the generator writes, for GoAccess: combined, then ` rt=$request_time host=$host`. */
const GOACCESS_FORMAT = ['--log-format=%h %^[%d:%t %^] "%r" %s %b "%R" "%u" rt=%T host=%v', '--date-format=%d/%b/%Y', '--time-format=%T'];
const GOACCESS_QUIET = ['--no-global-config', '--no-progress', '--no-parsing-spinner'];

function numEnv(name: string, dflt: number): number {
  const v = process.env[name];
  return v !== undefined && v !== '' && Number(v) > 0 ? Math.floor(Number(v)) : dflt;
}

const have = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;

/**
 * Every side RUNS times, interleaved, each run alone under the bench lock; the samples as
 * medianOf (common.ts) makes them, fed the runs in the order they were taken.
 */
async function lockedRuns(sides: Array<() => Timed>): Promise<Sample<Timed>[]> {
  const runs = sides.map(() => [] as Timed[]);
  for (let i = 0; i < RUNS; i++) {
    for (let k = 0; k < sides.length; k++) runs[k]?.push(await locked(sides[k] as () => Timed));
  }
  return medianOf(
    RUNS,
    ...runs.map((rs) => {
      let i = 0;
      return () => rs[i++] as Timed;
    }),
  );
}

// ---- inputs -------------------------------------------------------------------------------------

/** A digest of the compiled generator: a log made by another version of it is made again. */
function generatorStamp(lines: number): string {
  const h = createHash('sha256').update(`${SCENARIO} ${lines} seed 1 --no-json\n`);
  for (const sub of ['generate', 'generate/l7']) {
    const dir = join(ROOT, 'dist', sub);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) if (f.endsWith('.js')) h.update(f).update(readFileSync(join(dir, f)));
  }
  return h.digest('hex');
}

/** out/bench/l7-http-mixed-N.log and its truth, generated when missing or made by another build. */
function benchLog(lines: number): { log: string; truth: L7Truth } | null {
  mkdirSync(OUT, { recursive: true });
  const log = join(OUT, `l7-${SCENARIO}-${lines}.log`);
  const truthFile = log.replace(/\.log$/, '.truth.json');
  const stampFile = `${log}.stamp`;
  const stamp = generatorStamp(lines);
  const fresh = existsSync(log) && existsSync(truthFile) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp;
  if (!fresh) {
    process.stdout.write(`generating ${lines.toLocaleString('en-US')}-line ${SCENARIO} log ... `);
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [CLI, 'generate', SCENARIO, '-n', String(lines), '--seed', '1', '--no-json', '-w', log], { encoding: 'utf8' });
    if (r.status !== 0) {
      console.log(`failed: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-2).join(' | ')}`);
      return null;
    }
    writeFileSync(stampFile, stamp);
    process.stdout.write(`${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  return { log, truth: JSON.parse(readFileSync(truthFile, 'utf8')) as L7Truth };
}

function describeTruth(name: string, log: string, t: L7Truth): void {
  console.log(
    `${name}: ${log} (${t.lines.toLocaleString('en-US')} lines, ${(statSync(log).size / 1e6).toFixed(0)} MB, ${(t.duration_s / 60).toFixed(1)} min of log time); attacks: ${t.attacks
      .map((a) => `${a.group} ${a.ips.length} IPs`)
      .join(', ')}; legitimate named: ${t.legit.crawlers.length} crawlers, ${t.legit.monitors.length} monitors, ${t.legit.nat_egresses.length} NAT egresses`,
  );
}

// ---- palisade -----------------------------------------------------------------------------------

interface Ran {
  ok: boolean;
  stdout: string;
  why: string;
}

function lastLines(s: string, n = 3): string {
  return s.trim().split('\n').slice(-n).join(' | ');
}

/** One untimed run: does this build accept the command on a log, and what does it say? */
function tryRun(args: string[]): Ran {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 30, timeout: 900_000 });
  if (r.error) return { ok: false, stdout: '', why: String(r.error.message) };
  if (r.status !== 0) return { ok: false, stdout: r.stdout ?? '', why: `exit ${r.status}: ${lastLines(r.stderr || r.stdout || '')}` };
  return { ok: true, stdout: r.stdout ?? '', why: '' };
}

function analyzeArgs(log: string): string[] {
  const help = spawnSync(process.execPath, [CLI, 'analyze', '--help'], { encoding: 'utf8' }).stdout ?? '';
  return [CLI, 'analyze', log, '--json', ...(help.includes('--no-progress') ? ['--no-progress'] : [])];
}

/** `palisade analyze --json` on a log, parsed; null after saying why when it fails. */
function palisadeAnalyze(log: string, label: string): PalisadeL7Output | null {
  const r = tryRun(analyzeArgs(log));
  if (!r.ok) {
    console.log(`palisade analyze (${label}): FAILED, not measured: ${r.why}`);
    return null;
  }
  try {
    return JSON.parse(r.stdout) as PalisadeL7Output;
  } catch {
    console.log(`palisade analyze (${label}): its --json output is not JSON: ${r.stdout.slice(0, 200)}`);
    return null;
  }
}

// ---- crowdsec -----------------------------------------------------------------------------------

const CROWDSEC_ETC = '/etc/crowdsec';
const CROWDSEC_DATA = '/var/lib/crowdsec/data';

/** What is missing for the CrowdSec side, or null when it can run. */
function crowdsecMissing(): string | null {
  if (!have('crowdsec') || !have('cscli')) return 'crowdsec is not installed';
  const need = [
    `${CROWDSEC_ETC}/parsers/s01-parse/nginx-logs.yaml`,
    `${CROWDSEC_ETC}/parsers/s02-enrich/http-logs.yaml`,
    `${CROWDSEC_ETC}/scenarios/http-probing.yaml`,
    `${CROWDSEC_DATA}/http_path_traversal.txt`,
  ];
  const gone = need.filter((f) => !existsSync(f));
  return gone.length > 0 ? `not set up (${gone.join(', ')} missing)` : null;
}

/**
 * A config of its own under out/bench/crowdsec: the stock parsers, scenarios, patterns, data and
 * profiles of /etc/crowdsec and /var/lib/crowdsec, its own SQLite database and machine, a local API
 * on 127.0.0.1 only, no online_client (no Central API), no prometheus listener, no acquisition
 * file (the replay's -dsn is the only source).
 */
function crowdsecConfig(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'acquis.yaml'), '');
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    [
      'common:',
      '  daemonize: false',
      '  log_media: stdout',
      '  log_level: info',
      `  log_dir: ${dir}/`,
      '  working_dir: .',
      'config_paths:',
      `  config_dir: ${CROWDSEC_ETC}/`,
      `  data_dir: ${CROWDSEC_DATA}/`,
      `  simulation_path: ${CROWDSEC_ETC}/simulation.yaml`,
      '  hub_dir: /var/lib/crowdsec/hub/',
      '  index_path: /var/lib/crowdsec/hub/.index.json',
      `  notification_dir: ${CROWDSEC_ETC}/notifications/`,
      '  plugin_dir: /usr/lib/crowdsec/plugins/',
      'crowdsec_service:',
      `  acquisition_path: ${join(dir, 'acquis.yaml')}`,
      '  parser_routines: 1',
      'cscli:',
      '  output: human',
      '  hub_branch: v1.4.6',
      'db_config:',
      '  log_level: info',
      '  type: sqlite',
      `  db_path: ${join(dir, 'crowdsec.db')}`,
      '  use_wal: true',
      'api:',
      '  client:',
      `    credentials_path: ${join(dir, 'local_api_credentials.yaml')}`,
      '  server:',
      '    log_level: info',
      `    listen_uri: 127.0.0.1:${CROWDSEC_PORT}`,
      `    profiles_path: ${CROWDSEC_ETC}/profiles.yaml`,
      '    trusted_ips:',
      '      - 127.0.0.1',
      'prometheus:',
      '  enabled: false',
      '',
    ].join('\n'),
  );
  return file;
}

/** A fresh database with this bench's machine in it (outside the timed run). */
function crowdsecReset(dir: string, config: string): void {
  for (const f of readdirSync(dir)) if (f.startsWith('crowdsec.db')) rmSync(join(dir, f));
  const r = spawnSync('cscli', ['-c', config, '--error', 'machines', 'add', 'palisade-bench', '--auto', '--force', '-f', join(dir, 'local_api_credentials.yaml')], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`cscli machines add failed: ${lastLines(r.stderr ?? '')}`);
}

// ---- output -------------------------------------------------------------------------------------

/** row()'s header with lines/s for pkt/s, same widths. */
const HEAD = ROW_HEAD.replace(/ {2}pkt\/s/g, 'lines/s');

function pct(n: number, of: number): string {
  return of === 0 ? '-' : `${((100 * n) / of).toFixed(0)} %`;
}

function topNames(by: Array<[string, number]>, n = 3): string {
  return by
    .slice(0, n)
    .map(([name, k]) => `${name.replace(/^[\w.-]+\//, '')} ${k}`)
    .join(', ');
}

function detectionTable(truth: L7Truth, sides: Array<{ name: string; flagged: Flagged | null; note?: string }>): void {
  const scores: Array<Score | null> = sides.map((s) => (s.flagged ? score(truth, s.flagged) : null));
  const w = 40;
  console.log(`${'attack group (vector)'.padEnd(36)} ${'IPs'.padStart(5)}  ${sides.map((s) => s.name.padEnd(w)).join(' ')}`);
  truth.attacks.forEach((a, i) => {
    const cells = scores.map((s) => {
      const g = s?.groups[i];
      if (!g) return 'n/a'.padEnd(w);
      const right = g.rightVector !== g.flagged && g.rightVector > 0 ? ` (${g.rightVector} as ${a.vector})` : '';
      return `${g.flagged} (${pct(g.flagged, g.ips)})${right}${g.by.length > 0 ? `: ${topNames(g.by, 2)}` : ''}`.padEnd(w);
    });
    console.log(`${`${a.group} (${a.vector})`.padEnd(36)} ${String(a.ips.length).padStart(5)}  ${cells.join(' ')}`);
  });
  for (const kind of ['crawlers', 'monitors', 'nat_egresses'] as const) {
    const cells = scores.map((s) => {
      const l = s?.legit.find((x) => x.kind === kind);
      return (l ? `${l.flagged.length}${l.flagged.length > 0 ? `: ${l.flagged.slice(0, 3).join(' ')}` : ''}` : 'n/a').padEnd(w);
    });
    console.log(`${`legitimate: ${kind}`.padEnd(36)} ${String(truth.legit[kind].length).padStart(5)}  ${cells.join(' ')}`);
  }
  const other = scores.map((s) => (s ? `${s.otherFlagged.length}${s.otherFlagged.length > 0 ? `: ${s.otherFlagged.slice(0, 3).join(' ')}` : ''}` : 'n/a').padEnd(w));
  console.log(`${'legitimate: any other address'.padEnd(36)} ${'-'.padStart(5)}  ${other.join(' ')}`);
  const totals = scores.map((s) => (s ? `${s.total} addresses flagged` : 'n/a').padEnd(w));
  console.log(`${'total'.padEnd(36)} ${''.padStart(5)}  ${totals.join(' ')}`);
  for (const s of sides) if (s.note) console.log(`  ${s.name}: ${s.note}`);
}

// ---- the bench ----------------------------------------------------------------------------------

export default async function run(): Promise<void> {
  console.log(`every measured run holds ${BENCH_LOCK}; CrowdSec's local API listens on 127.0.0.1 only; nothing else opens a socket`);
  const big = benchLog(L7_LINES);
  if (big === null) {
    console.log(`l7: skipped: this build cannot generate '${SCENARIO}'`);
    return;
  }
  const { log, truth } = big;
  const lines = truth.lines;
  describeTruth('log', log, truth);

  // --- which sides can run ---
  let analyzeOut: PalisadeL7Output | null = null;
  if (!SKIP.has('palisade')) analyzeOut = await locked(() => palisadeAnalyze(log, `${lines} lines`));
  let filterOk = false;
  const filterArgs = [CLI, 'filter', '-e', FILTER_EXPR, '--count', log];
  if (!SKIP.has('filter')) {
    const f = await locked(() => tryRun(filterArgs));
    if (f.ok) {
      filterOk = true;
      const grep = spawnSync('grep', ['-c', '"POST ', log], { encoding: 'utf8' });
      console.log(`palisade filter --count: ${f.stdout.trim().split('\n').slice(-1)[0]} (grep -c '"POST ' counts ${(grep.stdout ?? '').trim()})`);
    } else console.log(`palisade filter (${FILTER_EXPR}) on the log: FAILED, not measured: ${f.why}`);
  }
  const goaccess = !SKIP.has('goaccess') && have('goaccess');
  if (!SKIP.has('goaccess') && !goaccess) console.log('goaccess: skipped: not installed (sudo sh bench/setup-crowdsec.sh, or apt-get install -y goaccess)');
  const csMissing = SKIP.has('crowdsec') ? 'left out (PALISADE_BENCH_L7_SKIP)' : crowdsecMissing();
  if (csMissing !== null && !SKIP.has('crowdsec')) console.log(`crowdsec: skipped: ${csMissing}: run sudo sh bench/setup-crowdsec.sh`);

  // --- the commands ---
  const aArgs = analyzeArgs(log);
  const gaDir = join(OUT, 'goaccess');
  mkdirSync(gaDir, { recursive: true });
  const gaInvalid = join(gaDir, 'invalid.txt');
  const gaJson = join(gaDir, 'report.json');
  const gaFastArgs = [log, ...GOACCESS_FORMAT, ...GOACCESS_QUIET, '--process-and-exit', `--invalid-requests=${gaInvalid}`];
  const gaJsonArgs = [log, ...GOACCESS_FORMAT, ...GOACCESS_QUIET, '-o', gaJson];

  let cs: { log: string; truth: L7Truth; dir: string; config: string; outputs: string[] } | null = null;
  if (csMissing === null) {
    const small = benchLog(CROWDSEC_LINES);
    if (small) {
      const dir = join(OUT, 'crowdsec');
      cs = { ...small, dir, config: crowdsecConfig(dir), outputs: [] };
      describeTruth('crowdsec log', small.log, small.truth);
    }
  }
  const csCmd = (run: number) =>
    cs ? `exec timeout -s INT ${CROWDSEC_TIMEOUT} crowdsec -c ${cs.config} -dsn file://${cs.log} -type nginx > ${join(cs.dir, `replay-${run}.out`)} 2>&1` : '';

  if (analyzeOut) console.log(`ours:    ${commandLine('node', aArgs)}`);
  if (filterOk) console.log(`ours:    ${commandLine('node', filterArgs)}`);
  if (goaccess) {
    console.log(`peer:    ${commandLine('goaccess', gaFastArgs, '> /dev/null 2> /dev/null')}`);
    console.log(`peer:    ${commandLine('goaccess', gaJsonArgs, '> /dev/null 2> /dev/null')}`);
  }
  if (cs) {
    console.log(
      `peer:    (per run: fresh database, \`cscli machines add\`) ${csCmd(0)
        .replace(/^exec /, '')
        .replace(/replay-0/, 'replay-N')}`,
    );
    console.log(`         config ${cs.config}: stock parsers/scenarios of ${CROWDSEC_ETC}, local API 127.0.0.1:${CROWDSEC_PORT} in-process, no Central API`);
  }
  console.log(runsNote());

  // --- timed, interleaved, each run under the lock ---
  type Side = { label: string; lines: number; fn: () => Timed };
  const sides: Side[] = [];
  if (analyzeOut) sides.push({ label: 'palisade analyze --json (with detection)', lines, fn: () => timed(process.execPath, aArgs) });
  if (filterOk) sides.push({ label: `palisade filter --count (POST)`, lines, fn: () => timed(process.execPath, filterArgs) });
  if (goaccess) {
    sides.push({
      label: 'goaccess --process-and-exit',
      lines,
      fn: () => {
        rmSync(gaInvalid, { force: true });
        return timed('goaccess', gaFastArgs, { shell: true });
      },
    });
    sides.push({ label: 'goaccess -o json', lines, fn: () => timed('goaccess', gaJsonArgs, { shell: true }) });
  }
  if (cs) {
    const c = cs;
    sides.push({
      label: `crowdsec replay (${(c.truth.lines / 1000).toFixed(0)}k lines)`,
      lines: c.truth.lines,
      fn: () => {
        crowdsecReset(c.dir, c.config);
        const t = timed('sh', ['-c', csCmd(c.outputs.length)]);
        c.outputs.push(readFileSync(join(c.dir, `replay-${c.outputs.length}.out`), 'latin1'));
        return t;
      },
    });
  }
  if (sides.length === 0) {
    console.log('l7: nothing to measure');
    return;
  }
  const samples = await lockedRuns(sides.map((s) => s.fn));
  console.log(HEAD);
  sides.forEach((s, k) => {
    console.log(row(s.label, s.lines, samples[k] as Sample<Timed>));
  });

  // A run that failed (the command exited non-zero; for CrowdSec, other than by the timeout, whose
  // time is kept as a bound) is shown above and left out of the medians below.
  const usable = samples.map((smp, k) => {
    const keep = smp.runs.filter((r) => r.status === 0 || ((sides[k] as Side).label.startsWith('crowdsec') && r.status === 124));
    if (keep.length === smp.runs.length) return smp;
    console.log(`${(sides[k] as Side).label}: ${smp.runs.length - keep.length} of ${smp.runs.length} runs failed; the figures below are the median of the other ${keep.length}`);
    if (keep.length === 0) return null;
    let i = 0;
    return medianOf(keep.length, () => keep[i++] as Timed)[0] as Sample<Timed>;
  });

  // --- checks on what the peers did ---
  const bySide = (label: string) => {
    const k = sides.findIndex((s) => s.label.startsWith(label));
    const sample = usable[k];
    return k < 0 || !sample ? null : { side: sides[k] as Side, sample };
  };
  if (goaccess) {
    const invalid = existsSync(gaInvalid)
      ? readFileSync(gaInvalid, 'latin1')
          .split('\n')
          .filter((l) => l !== '').length
      : Number.NaN;
    let general = '(no report)';
    if (existsSync(gaJson)) {
      const g = (JSON.parse(readFileSync(gaJson, 'utf8')) as { general: Record<string, number> }).general;
      general = `total_requests ${g.total_requests}, valid ${g.valid_requests}, failed ${g.failed_requests}: ${g.total_requests === lines && g.failed_requests === 0 ? 'every line parsed' : `NOT every line (${lines} lines)`}`;
    }
    console.log(`goaccess: --process-and-exit left ${invalid} invalid lines; -o json report: ${general}`);
  }
  if (cs && cs.outputs.length > 0) {
    const statuses = samples[sides.findIndex((s) => s.label.startsWith('crowdsec'))]?.runs.map((r) => r.status) ?? [];
    const timedOut = statuses.filter((s) => s === 124).length;
    const first = cs.outputs[0] as string;
    const finished = first.includes('Acquisition is finished');
    console.log(
      `crowdsec: ${cs.outputs.length} replay(s), exit statuses ${statuses.join(' ')}${timedOut > 0 ? ` (${timedOut} stopped by the ${CROWDSEC_TIMEOUT} s timeout: lines/s is then an upper bound)` : ''}; acquisition ${finished ? 'finished' : 'did NOT finish'} in run 1; errors logged: ${(first.match(/level=error/g) ?? []).length}`,
    );
  }

  // --- targets ---
  const ours = bySide('palisade analyze');
  const gaModes = [bySide('goaccess --process-and-exit'), bySide('goaccess -o json')];
  const csr = bySide('crowdsec');
  const lps = (x: { side: Side; sample: Sample<Timed> } | null, cpu: boolean) =>
    x ? x.side.lines / Math.max(cpu ? x.sample.median.cpuSeconds : x.sample.median.seconds, 1e-3) : Number.NaN;
  console.log('\nsummary (medians):');
  console.log(`${'tool'.padEnd(34)} ${'lines/s wall'.padStart(13)} ${'lines/s cpu'.padStart(13)} ${'peak RSS'.padStart(9)}`);
  for (const [name, x] of [
    ['palisade analyze --json', ours],
    ['palisade filter --count', bySide('palisade filter')],
    ['goaccess --process-and-exit', gaModes[0] ?? null],
    ['goaccess -o json', gaModes[1] ?? null],
    ['crowdsec replay', csr],
  ] as const) {
    if (!x) {
      console.log(`${name.padEnd(34)} ${'not measured'.padStart(13)}`);
      continue;
    }
    console.log(`${name.padEnd(34)} ${fmtRate(lps(x, false)).padStart(13)} ${fmtRate(lps(x, true)).padStart(13)} ${`${x.sample.median.maxRssMb.toFixed(0)} MB`.padStart(9)}`);
  }
  const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : Number.NaN);
  const verdict = (ok: boolean, have: boolean) => (have ? passFail(ok) : 'n/a');
  const oursWall = lps(ours, false);
  const oursCpu = lps(ours, true);
  const x = (r: number) => (Number.isFinite(r) ? `${r.toFixed(r >= 100 ? 0 : 1)}x` : 'n/a');
  // Against GoAccess's faster mode, by each measure.
  const gaBest = (cpu: boolean) => {
    const v = gaModes.map((m) => lps(m, cpu)).filter(Number.isFinite);
    return v.length > 0 ? Math.max(...v) : Number.NaN;
  };
  const rGaWall = ratio(oursWall, gaBest(false));
  const rGaCpu = ratio(oursCpu, gaBest(true));
  const rCsWall = ratio(oursWall, lps(csr, false));
  const rCsCpu = ratio(oursCpu, lps(csr, true));
  const why = ours ? '' : ' (palisade analyze not measured: see above)';
  console.log(`ratios: palisade / goaccess (its faster mode) ${x(rGaWall)} wall, ${x(rGaCpu)} cpu; palisade / crowdsec ${x(rCsWall)} wall, ${x(rCsCpu)} cpu${why}`);
  console.log('targets (issue 15):');
  console.log(
    `  >= ${fmtRate(TARGET_LPS)} lines/s on one core: ${Number.isFinite(oursCpu) ? fmtRate(oursCpu) : 'n/a'} by cpu ${verdict(oursCpu >= TARGET_LPS, Number.isFinite(oursCpu))}, ${Number.isFinite(oursWall) ? fmtRate(oursWall) : 'n/a'} by wall ${verdict(oursWall >= TARGET_LPS, Number.isFinite(oursWall))}`,
  );
  console.log(
    `  >= ${TARGET_VS_CROWDSEC}x CrowdSec: ${x(rCsCpu)} by cpu ${verdict(rCsCpu >= TARGET_VS_CROWDSEC, Number.isFinite(rCsCpu))}, ${x(rCsWall)} by wall ${verdict(rCsWall >= TARGET_VS_CROWDSEC, Number.isFinite(rCsWall))}`,
  );
  console.log(
    `  faster than GoAccess: ${x(rGaCpu)} by cpu ${verdict(rGaCpu > 1, Number.isFinite(rGaCpu))}, ${x(rGaWall)} by wall ${verdict(rGaWall > 1, Number.isFinite(rGaWall))}`,
  );
  const rss = ours?.sample.median.maxRssMb ?? Number.NaN;
  console.log(`  peak memory < ${TARGET_RSS_MB} MB: ${Number.isFinite(rss) ? `${rss.toFixed(0)} MB` : 'n/a'} ${verdict(rss < TARGET_RSS_MB, Number.isFinite(rss))}`);

  // --- detection ---
  if (cs && cs.outputs.length > 0) {
    console.log(`\n--- detection on the crowdsec log (${cs.truth.lines.toLocaleString('en-US')} lines of ${SCENARIO}, seed 1) ---`);
    const { alerts, decisions } = crowdsecFlagged(cs.outputs[0] as string);
    const p = SKIP.has('palisade') ? null : await locked(() => palisadeAnalyze(cs.log, `${cs.truth.lines} lines`));
    const pf = p ? palisadeFlagged(p) : null;
    detectionTable(cs.truth, [
      { name: 'crowdsec (alerts)', flagged: alerts, note: `${alerts.size} addresses alerted, ${decisions.size} banned (decisions) in run 1` },
      {
        name: 'palisade (attacks[].sources.ips)',
        flagged: pf?.complete ? pf.flagged : null,
        note: pf ? `${pf.attacks} attacks${pf.complete ? '' : '; some attack has no sources.ips: not scored by address'}` : 'analyze did not run on this log',
      },
    ]);
  }
  if (analyzeOut) {
    console.log(`\n--- palisade's detection on the ${lines.toLocaleString('en-US')}-line log ---`);
    const pf = palisadeFlagged(analyzeOut);
    for (const a of analyzeOut.attacks ?? []) console.log(`  ${a.vector} on ${a.victim?.host ?? '?'}: ${a.sources?.ips?.length ?? a.sources?.count ?? '?'} sources`);
    detectionTable(truth, [
      { name: 'palisade (attacks[].sources.ips)', flagged: pf.complete ? pf.flagged : null, note: `${pf.attacks} attacks${pf.complete ? '' : '; some attack has no sources.ips'}` },
    ]);
  }
}
