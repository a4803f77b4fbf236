/**
 * Issue 13's attack variants allocate per packet no more than the existing vectors do: their
 * pools and rings are made with the attack, and a packet costs what the emitter's own path costs
 * (a view of the payload blob and a few boxed numbers, shared by every vector). Measured as
 * garbage collections over 400,000 packets written to /dev/null, against the most any existing
 * vector of the same families needs.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { host4 } from '../../src/generate/addresses.js';
import { type AttackTarget, makeAttack } from '../../src/generate/attacks.js';
import { Emitter } from '../../src/generate/emitter.js';
import { Rng } from '../../src/generate/prng.js';
import type { Vector } from '../../src/model/attack.js';
import { PcapWriter } from '../../src/sources/capture/pcap-writer.js';
import { gcsDuring } from '../helpers/gc.js';

const writer = new PcapWriter('/dev/null', { nano: true });
after(() => writer.close());
const emitter = new Emitter(writer);

async function gcs(vector: Vector, target: AttackTarget): Promise<number> {
  const spec = makeAttack(vector, new Rng(3), target);
  let t = 0;
  // Warm up (and let the botnet's retransmission queues reach their size: 1,000 SYNs a second).
  for (let i = 0; i < 50_000; i++) spec.fill(emitter, (t += 1e6));
  return gcsDuring(() => {
    for (let i = 0; i < 400_000; i++) spec.fill(emitter, (t += 1e6));
  });
}

test("the new variants' packets allocate no more than the existing vectors'", async () => {
  const existing = Math.max(
    await gcs('tcp_syn_flood', { victim: host4(10), spoof: 'spoofed' }),
    await gcs('udp_flood', { victim: host4(25), spoof: 'spoofed' }),
    await gcs('gre_flood', { victim: host4(30), spoof: 'spoofed' }),
  );
  const variants: Array<[string, Vector, AttackTarget]> = [
    ['syn botnet', 'tcp_syn_flood', { victim: host4(10), port: 443, variant: 'botnet' }],
    ['udp botnet', 'udp_flood', { victim: host4(25), port: 27015, variant: 'botnet' }],
    ['mimic', 'tcp_syn_flood', { victim: host4(10), port: 443, variant: 'mimic' }],
    ['quic junk', 'udp_flood', { victim: host4(10), port: 443, spoof: 'spoofed', variant: 'quic-junk' }],
    ['gre inner', 'gre_flood', { victim: host4(30), spoof: 'spoofed', variant: 'gre-inner' }],
  ];
  for (const [name, vector, target] of variants) {
    const n = await gcs(vector, target);
    assert.ok(n <= 1.5 * existing + 3, `${name}: ${n} collections, existing vectors at most ${existing}`);
  }
});
