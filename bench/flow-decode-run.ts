/**
 * One timed pass of the built flow decoder (dist/, what users run) over a capture of flow export:
 * `node --import tsx bench/flow-decode-run.ts FILE` prints {records, datagrams, seconds, cpuSeconds,
 * gaps, maxRssMb} as JSON. Timed inside the process, so node's start-up is not in the figure; one
 * thread, so CPU time is one core's.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './common.js';

type CaptureSource = typeof import('../src/sources/flow/capture-source.js');

const file = process.argv[2];
if (file === undefined) throw new Error('usage: flow-decode-run.ts FILE');
const { readFlowCapture } = (await import(pathToFileURL(join(ROOT, 'dist/sources/flow/capture-source.js')).href)) as CaptureSource;
let packets = 0;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const info = await readFlowCapture(file, (v) => {
  packets += v.packets;
});
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const f = info.flows;
process.stdout.write(
  `${JSON.stringify({
    records: info.records,
    datagrams: f.udpDatagrams,
    packets,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    gaps: f.lostIpfixRecords + f.lostNetflow9Datagrams + f.lostNetflow5Flows + f.lostSflowDatagrams,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  })}\n`,
);
