/**
 * The live attack test of issue 16: `palisade edge` from the CLI, in `mode: auto` with no rule
 * written by hand (WAF on at paranoia 1 blocking, live L7 protection with its default options —
 * window_s 5, min_attack_requests 100, max_collateral 0.001 … — except release_after_s, 10 s
 * instead of 300 so the release is seen within the test), in front of a real origin, driven by
 * labelled clients over real connections, each with its own loopback address (live-driver-net.ts).
 *
 *   0–60 s     baseline: 40 browser users (some sign in), a carrier NAT egress with 30 sessions,
 *              newcomers (a new browser every 2 s, landing on any page, half with no referer) —
 *              the detector's baseline is warm after 10 windows of 5 s
 *   60–120 s   the users and the NAT egress go on; a flash crowd of 150 new browsers lands on
 *              /launch; an HTTP flood from 320 addresses each about 1 request/s (`/?q=<random>`,
 *              one old user agent, no cookie, no assets); busy and slow credential stuffers; a
 *              scanner; slowloris from 4 addresses (8 connections each)
 *   120–140 s  the users alone: the flood's rule is released
 *
 * Bars (issue 16, Done when): ≥ 99.5 % of the legitimate requests (users, newcomers, flash crowd, NAT egress;
 * each group alone too) answered by the origin without a block or a challenge; < 10 % of the
 * flood's requests sent after its mitigation was installed (the first `install` of an http_flood
 * on /api/decisions) reach the origin. Time to detection and to installation are printed, with
 * every group's figures.
 *
 * For comparison, a second test plays the same traffic (10 s of users, then 30 s of attacks)
 * through nginx with per-IP `limit_req` (5 r/s, burst 10 nodelay) in front of the same origin and
 * prints what share of the flood reaches the origin and what share of the users is refused.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import type { LiveDecision } from '../../src/proxy/live/decisions.js';
import { startEdgeProcess } from './edge-process.js';
import { Rng } from './live-driver.js';
import { Driver, type Group, type LabOrigin, LEGIT, pct, startLabOrigin, tally } from './live-driver-net.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-live-attack-'));
const BASELINE_MS = 60_000;
const ATTACK_MS = 60_000;
/** Users go on this long after the attacks stop: the flood's rule is released (release_after_s 10). */
const TAIL_MS = 20_000;

let origin: LabOrigin;
before(async () => {
  origin = await startLabOrigin();
});
after(async () => {
  await origin.close();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** The k-th address (from 0) of group a: 127.a.x.y, y never 0. */
const ip = (a: number, k: number): string => `127.${a}.${((k + 1) >> 8) & 255}.${(k + 1) & 255 || 1}`;

/** The traffic of the whole test, from `start`: baseline, then the attacks alongside the users. */
function play(d: Driver, start: number, baselineMs: number, attackMs: number, tailMs: number): { attackAt: number; end: number; tailEnd: number } {
  const attackAt = start + baselineMs;
  const end = attackAt + attackMs;
  const tailEnd = end + tailMs;
  for (let i = 0; i < 40; i++) d.browser('user', ip(1, i), tailEnd, { login: true });
  for (let u = 0; u < 30; u++) d.browser('nat', '127.7.0.1', tailEnd);
  // Newcomers: a new browser every 2 s, 1–4 page views each.
  const rng = d.rng;
  for (let i = 0, t = 0; t < tailEnd - start; i++, t += 2000) {
    const a = ip(9, i);
    setTimeout(() => d.browser('newcomer', a, tailEnd, { views: 1 + rng.int(4) }), t).unref();
  }
  return { attackAt, end, tailEnd };
}

function attacks(d: Driver, end: number): void {
  const rng = d.rng;
  // The flash crowd: 150 new browsers on /launch within 10 s, 1–4 page views each.
  for (let i = 0; i < 150; i++) {
    const a = ip(6, i);
    setTimeout(() => d.browser('crowd', a, end, { first: '/launch', views: 1 + rng.int(4) }), rng.int(10_000)).unref();
  }
  for (let i = 0; i < 320; i++) d.floodBot(ip(2, i), end);
  for (let i = 0; i < 5; i++) d.stuffer('stuff_busy', ip(3, i), end, 1000, 500);
  for (let i = 0; i < 60; i++) d.stuffer('stuff_slow', ip(4, i), end, 2 + rng.int(3), 10_000, rng.int(30_000));
  d.scanner('127.5.0.1', end);
  for (let i = 0; i < 4; i++) d.slowloris(ip(8, i), end, 8);
}

async function decisions(admin: string): Promise<LiveDecision[]> {
  const r = await request(`${admin}/api/decisions`, { signal: AbortSignal.timeout(5000) });
  return ((await r.body.json()) as { decisions: LiveDecision[] }).decisions;
}

/** Per group: sent, served by the origin, refused by the proxy, reached the origin, errors and statuses. */
function report(d: Driver, who: string): void {
  const groups: Group[] = ['user', 'newcomer', 'crowd', 'nat', 'flood', 'stuff_busy', 'stuff_slow', 'scanner', 'slowloris'];
  for (const g of groups) {
    const t = tally(d.outcomes, (o) => o.group === g);
    process.stdout.write(
      `# ${who} ${g}: ${t.sent} sent, ${pct(t.served, t.sent)} served by the origin, ${pct(t.refused, t.sent)} refused by the proxy, ${pct(t.origin, t.sent)} reached the origin, ${t.errors} errors; ${JSON.stringify(t.statuses)}\n`,
    );
  }
}

test('live attack: palisade edge in mode auto, no hand-written rule, against a flood and other attacks with users, a flash crowd and a NAT egress', {
  timeout: 220_000,
}, async () => {
  const cfg = join(dir, 'palisade.yaml');
  // The defaults (mode auto, WAF at paranoia 1 blocking, live L7 protection's default options)
  // but release_after_s: 10 instead of 300, so that the release is seen within the test.
  writeFileSync(cfg, 'edge:\n  mode: auto\n  live:\n    release_after_s: 10\n');
  const wall = Date.now();
  const edge = await startEdgeProcess(['--listen', '127.0.0.1:0', '--origin', origin.url, '--config', cfg, '--admin', '127.0.0.1:0']);
  const d = new Driver(edge.url, origin, new Rng(16));
  try {
    assert.match(edge.stderr(), /WAF on \(\d+ CRS rules\), live L7 protection auto/);
    const start = Date.now();
    const { attackAt, end, tailEnd } = play(d, start, BASELINE_MS, ATTACK_MS, TAIL_MS);
    await sleep(attackAt - Date.now());
    const floodAt = Date.now();
    attacks(d, end);
    await sleep(tailEnd - Date.now());
    await d.close();
    const ds = await decisions(edge.admin as string);

    const install = ds.find((x) => x.kind === 'install' && x.attack.vector === 'http_flood');
    const summary = ds.map(
      (x) =>
        `${x.time.slice(11, 19)} ${x.kind} ${x.attack.vector} ${x.rules.map((r) => `${r.type}${r.expression ? `[${r.expression}]` : ''}${r.entries ? `(${r.entries.length})` : ''}`).join(' ')} ${x.reason}`,
    );
    process.stdout.write(`# decisions:\n${summary.map((s) => `#   ${s}`).join('\n')}\n`);
    report(d, 'edge');
    const legit = tally(d.outcomes, (o) => LEGIT.includes(o.group));
    const bad = d.outcomes.filter((o) => LEGIT.includes(o.group) && !(o.origin && o.mitigated === undefined && o.status !== 0));
    process.stdout.write(`# legitimate: ${legit.served} of ${legit.sent} served (${pct(legit.served, legit.sent)}); not served: ${JSON.stringify(bad.slice(0, 20))}\n`);
    assert.ok(install !== undefined, `no http_flood mitigation installed: ${summary.join('\n')}`);
    const installedAt = Date.parse(install.time);
    const detectedAt = Date.parse(install.attack.detected_at);
    const after = tally(d.outcomes, (o) => o.group === 'flood' && o.t >= installedAt);
    const before = tally(d.outcomes, (o) => o.group === 'flood' && o.t < installedAt);
    process.stdout.write(
      `# flood: began ${new Date(floodAt).toISOString()}, detected ${((detectedAt - floodAt) / 1000).toFixed(1)} s and mitigated ${((installedAt - floodAt) / 1000).toFixed(1)} s after it began; before: ${before.origin} of ${before.sent} reached the origin; after: ${after.origin} of ${after.sent} (${pct(after.origin, after.sent)})\n`,
    );
    process.stdout.write(`# test traffic ${((Date.now() - start) / 1000).toFixed(0)} s, with the edge's start ${((Date.now() - wall) / 1000).toFixed(0)} s\n`);

    assert.ok(legit.served >= 0.995 * legit.sent, `legitimate requests served: ${pct(legit.served, legit.sent)}`);
    // The bar holds for each legitimate group alone too (the flash crowd and the NAT egress are not drowned in the users' figures).
    for (const g of LEGIT) {
      const t = tally(d.outcomes, (o) => o.group === g);
      assert.ok(t.sent > 100 && t.served >= 0.995 * t.sent, `${g}: ${t.served} of ${t.sent} served`);
    }
    assert.ok(after.sent > 1000, `flood requests after the installation: ${after.sent}`);
    assert.ok(after.origin < 0.1 * after.sent, `flood requests reaching the origin once mitigated: ${pct(after.origin, after.sent)}`);
    // Released once the flood had been quiet for release_after_s (10 s here), while the users went on.
    const release = ds.find((x) => x.kind === 'release' && x.attack.id === install.attack.id);
    assert.ok(release !== undefined && Date.parse(release.time) >= end, `the flood's rule released after it stopped: ${summary.join('\n')}`);
    process.stdout.write(`# the flood's rule released ${((Date.parse(release.time) - end) / 1000).toFixed(1)} s after the flood stopped\n`);
    // Every request the origin saw through the edge came with the edge's request id.
    for (const [id, rid] of origin.seen) assert.ok(rid !== undefined, `${id} reached the origin without palisade-request-id`);
  } finally {
    await d.close(1000);
    edge.child.kill('SIGTERM');
    const code = await Promise.race([edge.exited, sleep(15_000).then(() => 'timeout' as const)]);
    if (code === 'timeout') edge.child.kill('SIGKILL');
  }
});

/** A free loopback port (bound, read, released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const NGINX = '/usr/sbin/nginx';

test('for comparison: the same traffic through nginx with per-IP limit_req', { timeout: 100_000, skip: !existsSync(NGINX) && `${NGINX} is missing` }, async () => {
  const port = await freePort();
  const nd = join(dir, 'nginx');
  mkdirSync(nd, { recursive: true });
  const conf = join(nd, 'nginx.conf');
  writeFileSync(
    conf,
    `pid ${join(nd, 'nginx.pid')};
error_log ${join(nd, 'error.log')} error;
daemon off;
worker_processes 1;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(nd, 'body')};
  proxy_temp_path ${join(nd, 'proxy')};
  fastcgi_temp_path ${join(nd, 'fastcgi')};
  uwsgi_temp_path ${join(nd, 'uwsgi')};
  scgi_temp_path ${join(nd, 'scgi')};
  limit_req_zone $binary_remote_addr zone=per_ip:10m rate=5r/s;
  upstream origin {
    server 127.0.0.1:${origin.port};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      limit_req zone=per_ip burst=10 nodelay;
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
    }
  }
}
`,
  );
  const ngx = spawn(NGINX, ['-p', nd, '-c', conf, '-e', join(nd, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  ngx.stderr?.on('data', (b: Buffer) => {
    err += b.toString();
  });
  const exited = new Promise<void>((r) => ngx.once('exit', () => r()));
  const d = new Driver(`http://127.0.0.1:${port}`, origin, new Rng(16), 'n');
  try {
    // Up when it answers (at most 10 s).
    const up = Date.now() + 10_000;
    for (;;) {
      try {
        await (await request(`http://127.0.0.1:${port}/about`, { signal: AbortSignal.timeout(1000) })).body.text();
        break;
      } catch (e) {
        if (Date.now() > up || ngx.exitCode !== null) throw new Error(`nginx did not start: ${(e as Error).message} ${err}`);
        await sleep(200);
      }
    }
    // A shorter run (nginx learns nothing): 10 s of users, then 30 s of the same attacks alongside them.
    const start = Date.now();
    const { attackAt, end } = play(d, start, 10_000, 30_000, 0);
    await sleep(attackAt - Date.now());
    attacks(d, end);
    await sleep(end - Date.now());
    await d.close();
    report(d, 'nginx');
    const legit = tally(d.outcomes, (o) => LEGIT.includes(o.group));
    const flood = tally(d.outcomes, (o) => o.group === 'flood');
    const line = LEGIT.map((g) => {
      const t = tally(d.outcomes, (o) => o.group === g);
      return `${g} ${pct(t.refused, t.sent)} refused`;
    }).join(', ');
    process.stdout.write(
      `# nginx limit_req (5 r/s per address, burst 10 nodelay): ${pct(flood.origin, flood.sent)} of the flood's ${flood.sent} requests reached the origin; ${pct(legit.served, legit.sent)} of ${legit.sent} legitimate requests served, ${pct(legit.refused, legit.sent)} refused (${line})\n`,
    );
    assert.ok(legit.sent > 0 && flood.sent > 0, 'nginx ran');
  } finally {
    await d.close(1000);
    ngx.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    if (ngx.exitCode === null && ngx.signalCode === null) ngx.kill('SIGKILL');
  }
});
