/**
 * BGP Flowspec as an enforcement point the monitor drives: a mitigation's one-rule ruleset is
 * exported to ExaBGP's text API (export/flowspec.ts: `announce flow route { match { … } then {
 * discard; } }`), written to an ExaBGP the operator runs, which announces the routes to its BGP
 * peers (routers, scrubbers, a route server); removing the mitigation withdraws them.
 *
 * Why ExaBGP's named pipes (the CLI API) and not a `process` API: a `process` is a program ExaBGP
 * starts and reads commands from — the monitor is not started by ExaBGP, so it would need a relay
 * of its own between the two. The pipes are what ExaBGP 4.2 offers any program that is not its
 * child, what `exabgpcli` uses, and what Debian's exabgp package sets up out of the box: its
 * systemd unit makes `/run/exabgp/exabgp.in` and `.out` (owned by the exabgp user, so the monitor
 * runs as root or in that group) and its defaults are `exabgp.api.cli true`, `pipename exabgp`,
 * `ack true`. ExaBGP reads commands from `<pipe>.in`; its CLI helper writes each answer line —
 * command output, then `done` or `error` (with `ack`) — to `<pipe>.out`, opening it afresh for
 * each line and holding the line until someone reads. We speak that protocol ourselves rather
 * than run `exabgpcli`: it finds pipes only in fixed folders by name, takes a second and a half
 * per command and exits 0 when ExaBGP answered `error`.
 *
 * Answers carry no ids, and `.out` may hold answers to commands someone wrote without reading
 * (`echo … > exabgp.in` is common), so each exchange starts with `version`: its answer (`exabgp
 * 4.2.21`, `done`) marks where ours begin; then one command at a time, each with its answer
 * (ExaBGP answers a batch out of order: a parse error at once, a route when the reactor takes
 * it). About 10 ms a command on a local ExaBGP. Every exchange is bounded in time: nothing reading `.in` (ExaBGP not running, or
 * without its CLI) is an error at once, no answer within `timeoutMs` is an error, never a hang.
 *
 * FIFOs are files, not sockets: they reach an ExaBGP in any network namespace, so this point needs
 * no netns option. Flowspec has no counters, so hits() is null. ExaBGP keeps what the API announced
 * only while it runs: a restarted ExaBGP has forgotten them (a restarted monitor, like nftables
 * tables, leaves them in place).
 */
import { closeSync, constants, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { exportRuleset } from '../../export/index.js';
import { parseRuleset } from '../../mitigate/ruleset.js';
import type { Enforcer, EnforcerOutcome } from './enforcer.js';

/** Debian's: the pipes its exabgp.service makes, with the package's default `exabgp.api.pipename`. */
export const DEFAULT_EXABGP_PIPE = '/run/exabgp/exabgp';

export interface ExaBgpPlace {
  /** ExaBGP's API pipes without the suffix (`/run/exabgp/exabgp` for `exabgp.in` and `exabgp.out`); either FIFO's path names them too */
  pipe?: string;
  /** ms one exchange with ExaBGP may take, at most (default 5000) */
  timeoutMs?: number;
  /** refuse a signature that would need more routes than this (default 100) */
  maxRoutes?: number;
}

export type ExaBgpAnswer = 'done' | 'error';

/** The pipes' common path: `/run/exabgp/exabgp.in`, `.out` or the bare name all give `/run/exabgp/exabgp`. */
export function pipeBase(pipe: string): string {
  return pipe.replace(/\.(in|out)$/, '');
}

class ExchangeError extends Error {}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function openFifo(path: string, flags: number, role: string): number {
  let fd: number;
  try {
    fd = openSync(path, flags | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENXIO') throw new ExchangeError(`nothing reads ${path}: ExaBGP is not running, or runs without its CLI pipes (exabgp.api.cli)`);
    if (code === 'ENOENT') throw new ExchangeError(`no ${path}: ExaBGP's ${role} pipe (make it with mkfifo; Debian's exabgp.service does)`);
    throw new ExchangeError(`cannot open ${path}: ${(e as Error).message}`);
  }
  if (!fstatSync(fd).isFIFO()) {
    closeSync(fd);
    throw new ExchangeError(`${path} is not a named pipe (FIFO)`);
  }
  return fd;
}

/**
 * Writes commands to ExaBGP's `<base>.in` and collects their answers from `<base>.out`, one per
 * command; throws (an error naming the pipe) when it cannot, within `timeoutMs` in all. One
 * command at a time: ExaBGP answers a command it cannot parse at once but a route once its
 * reactor has taken it, so answers to a batch could come out of order.
 */
export async function exabgpExchange(base: string, commands: readonly string[], timeoutMs = 5000): Promise<ExaBgpAnswer[]> {
  const inPath = `${base}.in`;
  const outPath = `${base}.out`;
  const deadline = Date.now() + timeoutMs;
  let reader = -1;
  let writer = -1;
  let pending = '';
  const chunk = Buffer.allocUnsafe(4096);
  const send = async (command: string): Promise<void> => {
    const text = Buffer.from(`${command}\n`, 'utf8');
    let at = 0;
    while (at < text.length) {
      try {
        at += writeSync(writer, text, at);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw new ExchangeError(`writing to ${inPath}: ${(e as Error).message}`);
        if (Date.now() > deadline) throw new ExchangeError(`ExaBGP did not read ${inPath} within ${timeoutMs} ms`);
        await sleep(5);
      }
    }
  };
  const line = async (waiting: string): Promise<string> => {
    for (;;) {
      const nl = pending.indexOf('\n');
      if (nl >= 0) {
        const l = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (l === 'shutdown') throw new ExchangeError(`ExaBGP is shutting down (${outPath})`);
        return l;
      }
      let n = 0;
      try {
        n = readSync(reader, chunk, 0, chunk.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw new ExchangeError(`reading ${outPath}: ${(e as Error).message}`);
      }
      if (n > 0) {
        pending += chunk.toString('utf8', 0, n);
        continue;
      }
      // no writer at the moment (0) or nothing written yet (EAGAIN): ExaBGP writes line by line
      if (Date.now() > deadline) throw new ExchangeError(`no answer from ExaBGP on ${outPath} within ${timeoutMs} ms ${waiting}`);
      await sleep(5);
    }
  };
  const answer = async (waiting: string): Promise<ExaBgpAnswer> => {
    for (;;) {
      const l = await line(waiting);
      if (l === 'done' || l === 'error') return l;
    }
  };
  try {
    // the reader first: ExaBGP holds each answer line until someone has `.out` open
    reader = openFifo(outPath, constants.O_RDONLY, 'answer');
    writer = openFifo(inPath, constants.O_WRONLY, 'command');
    // the marker: what comes before its output answers someone else
    await send('version');
    while (!/^exabgp \d/i.test(await line('to "version" (is it running, with its CLI on this pipe?)')));
    await answer('after its version (Palisade needs exabgp.api.ack true)');
    const answers: ExaBgpAnswer[] = [];
    for (const c of commands) {
      await send(c);
      answers.push(await answer(`to ${c}`));
    }
    return answers;
  } finally {
    if (writer >= 0) closeSync(writer);
    if (reader >= 0) closeSync(reader);
  }
}

/** A route's identity for BGP: its match (the NLRI); the `then` part is the action carried with it. */
function matchOf(announce: string): string {
  const m = /match \{(.*?)\}\s*then/.exec(announce);
  return m ? (m[1] as string).trim() : announce;
}

function withdrawOf(announce: string): string {
  return `withdraw${announce.slice('announce'.length)}`;
}

export class FlowspecEnforcer implements Enforcer {
  readonly target = 'flowspec';
  readonly layer = 'l34' as const;
  /** the pipes' path without `.in`/`.out` */
  readonly pipe: string;
  readonly timeoutMs: number;
  readonly maxRoutes: number;
  /** what each mitigation has announced: its announce lines by their match */
  private readonly announced = new Map<string, Map<string, string>>();
  /** one exchange at a time: answers carry no ids, so two at once would take each other's */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    place: ExaBgpPlace = {},
    private readonly exchange: typeof exabgpExchange = exabgpExchange,
  ) {
    this.pipe = pipeBase(place.pipe ?? DEFAULT_EXABGP_PIPE);
    this.timeoutMs = place.timeoutMs ?? 5000;
    this.maxRoutes = place.maxRoutes ?? 100;
  }

  /** The announce lines of a one-rule ruleset (JSON, as buildMitigation makes it). */
  script(id: string, ruleset: object): { text: string; problems: string[] } {
    let out: ReturnType<typeof exportRuleset>;
    try {
      out = exportRuleset(parseRuleset(JSON.stringify(ruleset), `<${id}>`), 'flowspec', { flowspec: { maxRoutes: this.maxRoutes } });
    } catch (e) {
      return { text: '', problems: [(e as Error).message] };
    }
    const problems = out.problems.map((p) => p.reason);
    const routes = out.text.split('\n').filter((l) => l.startsWith('announce '));
    if (routes.length === 0 && problems.length === 0) problems.push('the signature gives no Flowspec route');
    return { text: routes.length === 0 ? '' : `${routes.join('\n')}\n`, problems };
  }

  /** Is this match announced by another mitigation (two attacks can share a route; it goes with the last)? */
  private heldElsewhere(id: string, match: string): boolean {
    for (const [other, routes] of this.announced) if (other !== id && routes.has(match)) return true;
    return false;
  }

  private send(commands: string[]): Promise<{ answers: ExaBgpAnswer[] } | { error: string }> {
    const run = this.queue.then(() =>
      this.exchange(this.pipe, commands, this.timeoutMs + 20 * commands.length).then(
        (answers) => ({ answers }),
        (e: Error) => ({ error: e.message }),
      ),
    );
    this.queue = run;
    return run;
  }

  private failed(commands: string[], answers: ExaBgpAnswer[]): string | null {
    const bad = commands.filter((_, i) => answers[i] !== 'done');
    if (bad.length === 0) return null;
    return `ExaBGP (${this.pipe}.in) answered error to ${bad.length} of ${commands.length} command(s), see its log: ${bad.join(' | ')}`;
  }

  /** Announces the script's routes; routes an earlier apply of this id announced and this one has not are withdrawn. */
  async apply(id: string, script: string): Promise<EnforcerOutcome> {
    const want = new Map<string, string>();
    for (const line of script.split('\n')) {
      const l = line.trim();
      if (l.startsWith('announce flow route ')) want.set(matchOf(l), l);
    }
    const had = this.announced.get(id) ?? new Map<string, string>();
    const gone = [...had].filter(([m]) => !want.has(m) && !this.heldElsewhere(id, m)).map(([, l]) => withdrawOf(l));
    const command = `echo … > ${this.pipe}.in (announce ${want.size}, withdraw ${gone.length} flow route(s))`;
    if (want.size === 0) return { ok: false, command, error: 'no "announce flow route" line to send' };
    // announce before withdrawing: the attack stays covered while its routes change
    const commands = [...want.values(), ...gone];
    const r = await this.send(commands);
    const error = 'error' in r ? r.error : this.failed(commands, r.answers);
    if (error === null) {
      this.announced.set(id, want);
      return { ok: true, command };
    }
    // some may have gone out: remember them all, so that remove() withdraws whatever is there
    this.announced.set(id, new Map([...had, ...want]));
    return { ok: false, command, error };
  }

  /** Withdraws what this id announced (a route another mitigation also announced stays). */
  async remove(id: string): Promise<EnforcerOutcome> {
    const had = this.announced.get(id);
    const commands = [...(had ?? [])].filter(([m]) => !this.heldElsewhere(id, m)).map(([, l]) => withdrawOf(l));
    const command = `echo … > ${this.pipe}.in (withdraw ${commands.length} flow route(s))`;
    if (commands.length === 0) {
      this.announced.delete(id);
      return { ok: true, command };
    }
    const r = await this.send(commands);
    const error = 'error' in r ? r.error : this.failed(commands, r.answers);
    if (error !== null) return { ok: false, command, error };
    this.announced.delete(id);
    return { ok: true, command };
  }

  /** Flowspec has no counters: what a route dropped is known to the routers only. */
  async hits(_id: string): Promise<null> {
    return null;
  }

  /** The announce lines each mitigation has out (for tests and status). */
  routes(id: string): string[] {
    return [...(this.announced.get(id)?.values() ?? [])];
  }
}
