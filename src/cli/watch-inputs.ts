/**
 * What a monitor watches, as the command line gives it — a live interface, a replayed capture,
 * stdin, flow export listeners, followed access logs — and palisade.yaml's detection, services,
 * notifications and live L7 settings. `palisade monitor` and `palisade serve` (which runs a monitor
 * in its own process when given inputs) take the same flags and build their inputs here.
 */
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { FlowInput, HttpInput } from '../analyze/monitor.js';
import { flowListeners, followedLog, stdinLog } from '../analyze/monitor-inputs.js';
import { loadConfig, type PalisadeConfig } from '../config/index.js';
import { InputError, UsageError } from '../core/errors.js';
import { startLiveCapture } from '../sources/capture/live.js';
import { type PaceClock, pacedCapture } from '../sources/capture/paced.js';
import { parseListenAddress } from '../sources/flow-listen/address.js';
import type { WatchOpts } from './watch-options.js';

export type WatchConfig = Pick<PalisadeConfig, 'detection' | 'services' | 'notifications'> & { edge?: PalisadeConfig['edge']; cluster?: PalisadeConfig['cluster'] };

export interface WatchInputs {
  /** The packet input (live, replay, stdin) and its name; absent: none. */
  stream?: Readable;
  name?: string;
  /** A live capture's stop (its capture program), else null. */
  stopCapture: (() => void) | null;
  pace: { current: PaceClock | null };
  flows: FlowInput | null;
  http: HttpInput[];
  /** Packets or flows to watch (L3/4 mitigation has something to act on). */
  l34: boolean;
  config: WatchConfig;
  /** The inputs in one line, for the start-up message. */
  watched: string;
}

/**
 * Checks the flags and opens the inputs. `stdinCapture`: the command's `-` argument (a capture on
 * stdin); `extraHttp`: HTTP inputs the caller has besides the logs (the monitor's --edge stream);
 * `note` says what the live capture program did when it exits badly.
 */
export function watchInputs(opts: WatchOpts, stdinCapture: boolean, extraHttp: readonly HttpInput[], note: (line: string) => void): WatchInputs {
  const packetSources = [stdinCapture, opts.replay !== undefined, opts.interface !== undefined].filter(Boolean).length;
  if (packetSources > 1) throw new UsageError('give one packet input: -i IFACE, --replay FILE, or - for a capture on stdin');
  const listen = [
    ...opts.sflow.map((a) => parseListenAddress('sflow', a)),
    ...opts.netflow.map((a) => parseListenAddress('netflow', a)),
    ...opts.ipfix.map((a) => parseListenAddress('ipfix', a)),
  ];
  if (stdinCapture && opts.httpLog.includes('-')) throw new UsageError('stdin is one input: a capture (-) or a log (--http-log -), not both');
  if (opts.httpLog.filter((f) => f === '-').length > 1) throw new UsageError('--http-log - (stdin) can be given once');
  for (const f of opts.httpLog) if (f !== '-' && !existsSync(f)) throw new InputError(`--http-log ${f}: no such file`, 'E_INPUT');
  if (opts.filter !== undefined && opts.interface === undefined) throw new UsageError('-f/--filter applies to -i (live capture)');
  const configFile = opts.config ?? (existsSync('palisade.yaml') ? 'palisade.yaml' : undefined);
  const config: WatchConfig = configFile ? loadConfig(configFile) : { detection: {}, services: [], notifications: { targets: new Map(), routes: [] } };
  const http: HttpInput[] = [...opts.httpLog.map((f) => (f === '-' ? stdinLog(opts.logFormat) : followedLog(f, opts.logFormat))), ...extraHttp];
  const pace: { current: PaceClock | null } = { current: null };
  let stream: Readable | undefined;
  let name: string | undefined;
  let stopCapture: (() => void) | null = null;
  if (opts.replay !== undefined) {
    stream = pacedCapture(opts.replay, { speed: opts.speed, loops: opts.loops }, pace);
    name = opts.replay;
  } else if (opts.interface !== undefined) {
    const live = startLiveCapture(opts.interface, opts.filter);
    stream = live.stream;
    name = `${opts.interface} (${live.command})`;
    stopCapture = live.stop;
    live.child.once('exit', (code) => {
      if (code !== 0 && code !== null) note(`${live.command} exited with ${code}${live.stderr() ? `: ${live.stderr()}` : ''}`);
    });
  } else if (stdinCapture) {
    stream = process.stdin;
    name = 'stdin';
  }
  const flows = listen.length > 0 ? flowListeners(listen) : null;
  const watched = [...(name !== undefined ? [`${name}${opts.replay ? ` at ${opts.speed}×` : ''}`] : []), ...(flows ? [flows.name] : []), ...http.map((h) => h.name)].join(', ');
  return {
    ...(stream !== undefined && { stream }),
    ...(name !== undefined && { name }),
    stopCapture,
    pace,
    flows,
    http,
    l34: packetSources > 0 || listen.length > 0,
    config,
    watched,
  };
}
