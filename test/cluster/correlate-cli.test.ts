/**
 * `palisade correlate` from the command line: palisade.yaml's `cluster:` section stands in for the
 * flags (a flag given wins), and with NATS named nowhere it is a usage error that says where to
 * name it. Bounded by --duration; a private NATS server. (Run from the repository, which has no
 * palisade.yaml of its own.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NatsServer } from '../helpers/nats-server.js';

const CLI = resolve(import.meta.dirname, '../helpers/run-cli.ts');
const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('palisade correlate: flags and palisade.yaml', { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-correlate-cli-'));
  let nats: NatsServer;
  before(async () => {
    nats = await NatsServer.start();
  });
  after(async () => {
    await nats?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes NATS, its name and its sites from the cluster: section; a flag wins', () => {
    const cfg = join(dir, 'palisade.yaml');
    writeFileSync(cfg, `cluster:\n  nats: ${nats.url}\n  site: lab\n  node: fromfile\n  correlate: { sites: [lab, fra], wait_s: 1 }\n  stream: { max_gib: 2 }\n`);
    const r = run(['correlate', '--config', cfg, '--db', join(dir, 'a.db'), '--duration', '1']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /correlating site lab, fra as fromfile/);
    // cluster.stream reaches the stream: max_gib given, max_age_days the default.
    assert.match(r.stderr, /created stream PALISADE \(subjects palisade\.>, 7 days, 2 GiB\)/);
    const f = run(['correlate', '--config', cfg, '--node', 'fromflag', '--sites', 'ams', '--db', join(dir, 'b.db'), '--duration', '1']);
    assert.equal(f.status, 0, f.stderr);
    assert.match(f.stderr, /correlating site ams as fromflag/);
  });

  it('without NATS named anywhere: a usage error saying where to name it', () => {
    const r = run(['correlate', '--db', join(dir, 'c.db')]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /give --cluster nats:\/\/host:port .* or cluster\.nats in palisade\.yaml/);
  });
});
