/**
 * A live capture: Palisade does not open the interface itself — as Wireshark leaves it to
 * dumpcap — but spawns `dumpcap` (or `tcpdump`) writing pcap to a pipe, so the privileged part
 * is a small well-known program and Palisade reads its output like any capture stream.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import type { Readable } from 'node:stream';
import { InputError } from '../../core/errors.js';

export interface LiveCapture {
  stream: Readable;
  child: ChildProcess;
  /** the command line run, for messages */
  command: string;
  /** what the capture program said on stderr (its own errors: no such device, permission) */
  stderr(): string;
  stop(): void;
}

function installed(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/**
 * Starts capturing on `iface` with an optional BPF filter. dumpcap when installed (it can
 * capture without root through its capabilities), else tcpdump; neither: a clear error.
 */
export function startLiveCapture(iface: string, bpf?: string): LiveCapture {
  let cmd: string;
  let args: string[];
  if (installed('dumpcap')) {
    cmd = 'dumpcap';
    // -P: pcap (not pcapng) on the pipe; -q: no packet counts on stderr
    args = ['-i', iface, '-P', '-q', '-w', '-', ...(bpf ? ['-f', bpf] : [])];
  } else if (installed('tcpdump')) {
    cmd = 'tcpdump';
    // -U: each packet written as it comes (not when a buffer fills); -s 0: whole frames
    args = ['-i', iface, '-U', '-s', '0', '-w', '-', ...(bpf ? [bpf] : [])];
  } else {
    throw new InputError(
      'live capture needs dumpcap (Debian: wireshark-common or tshark) or tcpdump; install one, or pipe a capture in: tcpdump -i eth0 -w - | palisade monitor -',
      'E_DEPENDENCY',
    );
  }
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (err.length < 16_384) err += d.toString('utf8');
  });
  return {
    stream: child.stdout as Readable,
    child,
    command: `${cmd} ${args.join(' ')}`,
    stderr: () => err.trim(),
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}
