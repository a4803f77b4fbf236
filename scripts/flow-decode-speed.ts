/**
 * IPFIX decode speed on one core: the UDP payloads of the corpus's IPFIX captures, decoded over and
 * over by one FlowDecoder (templates learnt on the first pass), records handed to a callback that
 * only sums them. Prints records/s. Not a test: figures depend on the machine.
 *
 *   node --import tsx scripts/flow-decode-speed.ts [seconds]
 *   (on a shared machine: flock /tmp/palisade-bench.lock node --import tsx scripts/flow-decode-speed.ts)
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readCapture } from '../src/sources/capture/capture.js';
import { FlowDecoder } from '../src/sources/flow/datagram.js';

const DIR = resolve(process.cwd(), '../shared/corpus/flows');
const seconds = Number(process.argv[2] ?? 5);

interface Datagram {
  bytes: Uint8Array;
  src4: number;
  srcPort: number;
  dstPort: number;
}

async function datagrams(file: string): Promise<Datagram[]> {
  const out: Datagram[] = [];
  await readCapture(
    file,
    (v) => {
      if (v.l4Proto === 17 && v.payloadOff >= 0 && v.payloadLen > 0) {
        out.push({ bytes: v.buf.slice(v.payloadOff, v.payloadOff + v.payloadLen), src4: v.src4, srcPort: v.srcPort, dstPort: v.dstPort });
      }
    },
    { streamApps: false },
  );
  return out;
}

const files = readdirSync(DIR)
  .filter((f) => f.startsWith('ipfix_') && f.endsWith('.pcap'))
  .sort()
  .map((f) => join(DIR, f));
const all: Datagram[] = [];
for (const f of files) all.push(...(await datagrams(f)));
// One buffer holding every datagram back to back, as a reader's chunk would.
const total = all.reduce((n, d) => n + d.bytes.length, 0);
const buf = new Uint8Array(total);
const offs = new Int32Array(all.length + 1);
let o = 0;
all.forEach((d, i) => {
  buf.set(d.bytes, o);
  offs[i] = o;
  o += d.bytes.length;
});
offs[all.length] = o;

const dec = new FlowDecoder();
let sink = 0;
dec.onFlow = (v) => {
  sink += v.packets;
};
const pass = (): void => {
  for (let i = 0; i < all.length; i++) {
    const d = all[i] as Datagram;
    dec.exporter.set4(d.src4);
    dec.exporter.port = d.srcPort;
    dec.decode(buf, offs[i] as number, offs[i + 1] as number, d.dstPort, 0);
  }
};

pass(); // learn templates, warm up
for (let i = 0; i < 3; i++) pass();
const before = dec.stats.flowRecords;
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
let passes = 0;
while (Number(process.hrtime.bigint() - t0) / 1e9 < seconds) {
  pass();
  passes++;
}
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
// CPU time too: on a shared machine the wall clock counts the time other processes had the core.
const cpuSecs = (cpu.user + cpu.system) / 1e6;
const records = dec.stats.flowRecords - before;
console.log(`IPFIX: ${files.length} captures, ${all.length} datagrams, ${(total / 1e6).toFixed(1)} MB, ${passes} passes in ${secs.toFixed(2)} s`);
console.log(`${(records / secs / 1e6).toFixed(2)} M records/s by the wall clock, ${(records / cpuSecs / 1e6).toFixed(2)} M records per CPU second`);
console.log(`(${(records / 1e6).toFixed(1)} M records; ${((total * passes) / secs / 1e6).toFixed(0)} MB/s; CPU ${cpuSecs.toFixed(2)} s of ${secs.toFixed(2)} s; checksum ${sink})`);
console.log(`Node ${process.version}; malformed datagrams ${dec.stats.malformedDatagrams}`);
