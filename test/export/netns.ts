/**
 * Two network namespaces joined by a veth pair, for kernel proof tests: the sender side `a`
 * replays a pcap with tcpreplay, the receiver side `b` runs the firewall under test. Names are
 * unique per process; `destroy()` must run in a finally/after hook.
 */
import { execFileSync, spawnSync } from 'node:child_process';

export const RECV_MAC = '02:00:00:00:00:02';
export const SEND_MAC = '02:00:00:00:00:01';

let seq = 0;

export class VethPair {
  readonly a: string;
  readonly b: string;
  readonly ifA = 'pal0';
  readonly ifB = 'pal1';
  private created = false;

  constructor(tag: string) {
    seq++;
    this.a = `palisade-t-${process.pid}-${tag}${seq}-a`;
    this.b = `palisade-t-${process.pid}-${tag}${seq}-b`;
  }

  /** Run a command in a namespace; throws with stderr on failure. */
  run(ns: 'a' | 'b', cmd: string, args: string[], input?: string): string {
    return execFileSync('ip', ['netns', 'exec', ns === 'a' ? this.a : this.b, cmd, ...args], { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
  }

  tryRun(ns: 'a' | 'b', cmd: string, args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('ip', ['netns', 'exec', ns === 'a' ? this.a : this.b, cmd, ...args], { encoding: 'utf8', input });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** `v6OnB`: keep IPv6 enabled on b's interface (the IP stack, e.g. iptables, must see IPv6). */
  create(opts: { v6OnB?: boolean } = {}): void {
    execFileSync('ip', ['netns', 'add', this.a]);
    this.created = true;
    execFileSync('ip', ['netns', 'add', this.b]);
    execFileSync('ip', ['-n', this.a, 'link', 'add', this.ifA, 'address', SEND_MAC, 'type', 'veth', 'peer', 'name', this.ifB, 'netns', this.b, 'address', RECV_MAC]);
    for (const [ns, dev] of [
      [this.a, this.ifA],
      [this.b, this.ifB],
    ] as const) {
      // No IPv6 on the sending side: its kernel would otherwise send its own packets (DAD, RS) into the test.
      const off = ns === this.a || !opts.v6OnB;
      execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', `net.ipv6.conf.${dev}.disable_ipv6=${off ? 1 : 0}`]);
      execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.default.disable_ipv6=1']);
      execFileSync('ip', ['-n', ns, 'link', 'set', dev, 'up']);
      execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
  }

  /** Replay a pcap from side a at its recorded timing (optionally scaled by a multiplier). */
  replay(pcap: string, multiplier = 1): void {
    this.run('a', 'tcpreplay', ['-q', '-i', this.ifA, `--multiplier=${multiplier}`, pcap]);
  }

  /** Packets received on side b's interface (kernel statistics). */
  rxPackets(): number {
    const j = JSON.parse(execFileSync('ip', ['-n', this.b, '-j', '-s', 'link', 'show', this.ifB], { encoding: 'utf8' })) as {
      stats64: { rx: { packets: number; dropped: number } };
    }[];
    return j[0]?.stats64.rx.packets ?? -1;
  }

  destroy(): void {
    if (!this.created) return;
    spawnSync('ip', ['netns', 'del', this.a]);
    spawnSync('ip', ['netns', 'del', this.b]);
    this.created = false;
  }
}
