/**
 * nftables as an enforcement point the monitor drives: each mitigation is a table of its own
 * (`inet palisade_<id>`, or `netdev` at a device's ingress), so loading one never touches
 * another's rules or the host's, and removing it is one `delete table`. Runs `nft` in this network namespace or a named one
 * (`ip netns exec NAME nft …`); reads the drop rules' counters back (`nft -j`) for the hit counts
 * the incident's timeline shows.
 */
import { spawn } from 'node:child_process';
import { exportRuleset } from '../../export/index.js';
import { safeId } from '../../export/nftables.js';
import { parseRuleset } from '../../mitigate/ruleset.js';
import type { Enforcer, EnforcerOutcome } from './enforcer.js';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command with `input` on stdin (bounded in time). */
export function runCommand(cmd: string, args: string[], input = '', timeoutMs = 10_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    child.on('error', (e) => {
      clearTimeout(t);
      resolve({ code: 127, stdout, stderr: e.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(t);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: stderr.trim() });
    });
    // A command that exits before reading its input (`nft -j list …` reads none; a failing `nft -f -`
    // may stop early) closes the pipe: that EPIPE is not an error of ours — the exit code says how it went.
    child.stdin.on('error', () => {});
    if (input === '') child.stdin.end();
    else child.stdin.end(input);
  });
}

export interface NftPlace {
  /** network namespace to act in (null: this process's) */
  netns?: string | null;
  /** drop at this device's ingress hook (family netdev: before the IP stack, the cheapest place);
   * absent: the inet prerouting hook */
  device?: string;
}

export class NftEnforcer implements Enforcer {
  readonly target = 'nftables';
  readonly layer = 'l34' as const;
  readonly netns: string | null;
  readonly device: string | null;
  readonly family: 'inet' | 'netdev';

  constructor(
    place: NftPlace = {},
    private readonly run: typeof runCommand = runCommand,
  ) {
    this.netns = place.netns ?? null;
    this.device = place.device ?? null;
    this.family = this.device === null ? 'inet' : 'netdev';
  }

  /** The table a mitigation lives in. */
  static tableOf(id: string): string {
    return `palisade_${safeId(id)}`.slice(0, 64);
  }

  private nft(args: string[], input = ''): Promise<CommandResult> {
    return this.netns === null ? this.run('nft', args, input) : this.run('ip', ['netns', 'exec', this.netns, 'nft', ...args], input);
  }

  private where(): string {
    return this.netns === null ? '' : `ip netns exec ${this.netns} `;
  }

  /** The nftables script of a one-rule ruleset (JSON, as buildMitigation makes it) in the mitigation's own table. */
  script(id: string, ruleset: object): { text: string; problems: string[] } {
    const rs = parseRuleset(JSON.stringify(ruleset), `<${id}>`);
    const nftables = this.device === null ? { table: NftEnforcer.tableOf(id) } : { table: NftEnforcer.tableOf(id), hook: 'ingress' as const, device: this.device };
    const out = exportRuleset(rs, 'nftables', { nftables });
    return { text: out.text, problems: out.problems.map((p) => p.reason) };
  }

  /** Loads the script (replacing a table of the same mitigation, atomically: one nft transaction). */
  async apply(id: string, script: string): Promise<EnforcerOutcome> {
    const table = NftEnforcer.tableOf(id);
    // `nft -f` runs the file as one transaction: the old table goes and the new one comes, or neither
    const f = this.family;
    const text = `table ${f} ${table}\ndelete table ${f} ${table}\n${script}`;
    const r = await this.nft(['-f', '-'], text);
    const command = `${this.where()}nft -f - (table ${f} ${table})`;
    return r.code === 0 ? { ok: true, command } : { ok: false, command, error: r.stderr || `nft exited with ${r.code}` };
  }

  async remove(id: string): Promise<EnforcerOutcome> {
    const table = NftEnforcer.tableOf(id);
    const r = await this.nft(['delete', 'table', this.family, table]);
    const command = `${this.where()}nft delete table ${this.family} ${table}`;
    if (r.code === 0 || /No such file or directory/.test(r.stderr)) return { ok: true, command };
    return { ok: false, command, error: r.stderr || `nft exited with ${r.code}` };
  }

  /** Packets and bytes the mitigation's rules counted (null: the table is not there). */
  async hits(id: string): Promise<{ packets: number; bytes: number } | null> {
    const r = await this.nft(['-j', 'list', 'table', this.family, NftEnforcer.tableOf(id)]);
    if (r.code !== 0) return null;
    let packets = 0;
    let bytes = 0;
    try {
      const doc = JSON.parse(r.stdout) as { nftables?: Array<{ rule?: { expr?: Array<{ counter?: { packets: number; bytes: number } }> } }> };
      for (const item of doc.nftables ?? []) {
        for (const e of item.rule?.expr ?? []) {
          if (e.counter) {
            packets += e.counter.packets;
            bytes += e.counter.bytes;
          }
        }
      }
    } catch {
      return null;
    }
    return { packets, bytes };
  }
}
