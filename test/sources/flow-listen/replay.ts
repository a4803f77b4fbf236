/**
 * Replaying flow export to a listener on loopback, as the exporter sent it: the UDP payloads of a
 * corpus capture, each sent through an ordinary socket (tcpreplay on `lo` delivers nothing to a UDP
 * socket). Plus `palisade collect` spawned from source, ready once its start line is printed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { join } from 'node:path';
import { readCapture } from '../../../src/sources/capture/capture.js';

export const FLOWS = join(process.cwd(), '../shared/corpus/flows');

/** The UDP payloads of a capture, in order, copied out. */
export async function payloads(pcap: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  await readCapture(
    pcap,
    (v) => {
      if (v.l4Proto === 17 && v.payloadOff >= 0 && v.payloadLen > 0) out.push(v.buf.slice(v.payloadOff, v.payloadOff + v.payloadLen));
    },
    { streamApps: false },
  );
  return out;
}

/** A socket bound to `from` (any 127.0.0.0/8 address works on Linux's lo, so each file can have its own exporter). */
export function senderSocket(from: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket(from.includes(':') ? 'udp6' : 'udp4');
    s.once('error', reject);
    s.bind({ address: from, port: 0 }, () => resolve(s));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Send every datagram to host:port. `burst` datagrams go back to back, then the sender waits
 * `pauseMs` (0: as fast as the socket takes them), so a test that wants no loss stays inside the
 * receive buffer. Resolves when the kernel has taken the last one.
 */
export async function sendAll(s: Socket, datagrams: Uint8Array[], host: string, port: number, burst = 64, pauseMs = 1): Promise<void> {
  for (let i = 0; i < datagrams.length; i += burst) {
    const chunk = datagrams.slice(i, i + burst);
    await Promise.all(chunk.map((d) => new Promise<void>((resolve, reject) => s.send(d, port, host, (err) => (err ? reject(err) : resolve())))));
    if (pauseMs > 0) await sleep(pauseMs);
  }
}

/** A UDP port free on loopback right now (bound, read, released). */
export function freePort(family: 4 | 6 = 4): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket(family === 6 ? 'udp6' : 'udp4');
    s.once('error', reject);
    s.bind({ address: family === 6 ? '::1' : '127.0.0.1', port: 0 }, () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

export interface Collect {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/**
 * Spawn `palisade collect ARGS` from source. Resolves once its start line is out (the sockets are
 * bound), or rejects if it exits first; `timeoutMs` kills it, so a test never hangs. With
 * `onLine`, stdout goes to it line by line instead of being kept.
 */
export function spawnCollect(args: string[], opts: { timeoutMs?: number; onLine?: (line: string) => void } = {}): Promise<Collect> {
  const { timeoutMs = 60_000, onLine } = opts;
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/run-cli.ts', 'collect', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve(code);
    }),
  );
  return new Promise((resolve, reject) => {
    const ready = () => {
      if (/collect: started/.test(out + err)) resolve({ child, stdout: () => out, stderr: () => err, exited });
    };
    let partial = '';
    child.stdout?.on('data', (c: string) => {
      if (onLine === undefined) out += c;
      else {
        // JSON lines are handed over one by one, not kept: a replay prints tens of megabytes.
        const lines = (partial + c).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) onLine(l);
      }
      ready();
    });
    child.stderr?.on('data', (c: string) => {
      err += c;
      ready();
    });
    exited.then((code) => reject(new Error(`collect exited ${code} before starting: ${err}`)));
  });
}
