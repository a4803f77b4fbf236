/**
 * The edge's decision side, assembled from palisade.yaml and the command line: the phases gate
 * (phases/pipeline.ts), live L7 protection (live/), metrics and the admin listener (admin/); and
 * the reload that replaces them when the configuration changes. `palisade edge` makes one of
 * these and hands `stack.gate` to the transport (server.ts), which never learns that a reload
 * happened.
 *
 * Reload (SIGHUP, or the config file changing): the new configuration is read and compiled
 * first; if it has errors they are reported (file:line:col) and the running gate keeps serving.
 * Otherwise a new gate is made, keeping the WAF when its section did not change (a CRS load
 * takes most of a second), the counter store when its section did not (limits keep their
 * state), the challenge's spent seeds, and the runtime rules (admin and live protection's);
 * live protection follows the new gate. A request keeps the gate it started with until it ends.
 */
import type { EdgeOptions } from '../config/edge.js';
import { enableRegexBacktrackFallback } from '../waf/engine.js';
import { EdgeMetrics } from './admin/metrics.js';
import { type AdminServer, startAdmin } from './admin/server.js';
import { processSecret } from './challenge/secret.js';
import type { CounterStore } from './counters/store.js';
import type { BodyVerdict, EdgeRequest, Gate, HeadVerdict, Outcome } from './gate.js';
import { LiveL7 } from './live/live.js';
import { edgeOptionsFromFlags, keepOnReload } from './phases/edge-config.js';
import { createCounterStore, createEdgeGate, type EdgeGate } from './phases/pipeline.js';
import type { EdgeStats } from './stats.js';

export interface StackFlags {
  /** palisade.yaml (its `edge:` section). */
  config?: string;
  /** `--block-list FILE`, repeatable. */
  blockLists?: string[];
  /** `--mode`: overrides `edge.mode` (live protection: auto, suggest, off). */
  mode?: EdgeOptions['mode'];
  /** `--admin HOST:PORT` and its token. */
  admin?: { host: string; port: number; token?: string | null };
  /** `--redis URL`: the rate-limit counters in this Redis (edge.counters.store redis and redis_url). */
  redis?: string;
}

export interface StackDeps {
  /** Operational messages (reloads, counter store, live decisions): default stderr. */
  log?: (line: string) => void;
  /** The transport's counters, for /metrics. */
  edgeStats?: () => EdgeStats;
  /** More Prometheus text for /metrics (the cluster's, when clustered). */
  extraMetrics?: () => string;
  now?: () => number;
}

/** A reload's result: applied, or refused with the configuration's errors (the old one serves on). */
export type ReloadResult = { ok: true } | { ok: false; error: string };

export class EdgeStack {
  private current: EdgeGate;
  private options: EdgeOptions;
  private counters: CounterStore;
  private detachMetrics: () => void;
  readonly metrics = new EdgeMetrics();
  /** Who follows the finished exchanges across reloads (the admin API's request streams). */
  private readonly followers = new Set<(req: EdgeRequest, o: Outcome) => void>();
  /** Every finished exchange of whichever gate saw it: metrics, then the request streams. */
  private readonly finished = (req: EdgeRequest, o: Outcome): void => {
    this.metrics.observe(req.ruleIds, o);
    for (const f of this.followers) f(req, o);
  };

  /** Follow every finished exchange from now on, through reloads; returns the unfollow function. */
  follow(f: (req: EdgeRequest, o: Outcome) => void): () => void {
    this.followers.add(f);
    return () => this.followers.delete(f);
  }
  readonly live: LiveL7 | null;
  admin: AdminServer | null = null;
  reloads = 0;

  /** What the transport calls: each request stays with the gate that saw its head. */
  readonly gate: Gate = {
    head: (req: EdgeRequest): HeadVerdict | Promise<HeadVerdict> => {
      const g = this.current;
      req.owner = g;
      return g.head(req);
    },
    body: (req: EdgeRequest, body: Uint8Array, truncated: boolean): BodyVerdict | Promise<BodyVerdict> => this.gateOf(req).body(req, body, truncated),
    response: (req: EdgeRequest, status: number): void => this.gateOf(req).response(req, status),
    done: (req: EdgeRequest, outcome: Outcome): void => {
      this.gateOf(req).done(req, outcome);
      req.owner = undefined;
    },
  };

  private constructor(
    private readonly flags: StackFlags,
    private readonly deps: StackDeps,
    options: EdgeOptions,
  ) {
    const log = deps.log ?? ((l: string) => process.stderr.write(`${l}\n`));
    this.options = options;
    this.counters = createCounterStore(options.counters, log);
    this.current = createEdgeGate(options, { counters: this.counters, log, ...(deps.now && { now: deps.now }) });
    this.detachMetrics = this.current.observe(this.finished);
    this.live = options.mode === 'off' ? null : LiveL7.fromEdgeOptions(this.current, options, deps.now ? { now: deps.now } : {});
    this.live?.attach();
    this.live?.start();
  }

  /**
   * Read the configuration and make the stack (the WAF is loaded here: most of a second). Call
   * before forking workers: the challenge's key is made here and shared through the environment.
   */
  static async start(flags: StackFlags, deps: StackDeps = {}): Promise<EdgeStack> {
    // The CRS's regular expressions fall back to the linear engine when one backtracks too far.
    enableRegexBacktrackFallback();
    processSecret();
    const stack = new EdgeStack(flags, deps, EdgeStack.read(flags));
    if (flags.admin) {
      stack.admin = await startAdmin(flags.admin, {
        // The gate of the moment: a reload swaps it.
        gate: () => stack.current,
        metrics: stack.metrics,
        requests: (f) => stack.follow(f),
        ...(deps.edgeStats && { edgeStats: deps.edgeStats }),
        ...(deps.extraMetrics && { extraMetrics: deps.extraMetrics }),
        ...(stack.live && { decisions: () => stack.live?.decisions() ?? [] }),
        ...(deps.log && { audit: deps.log }),
      });
    }
    return stack;
  }

  private static read(flags: StackFlags): EdgeOptions {
    const o = edgeOptionsFromFlags({ config: flags.config, blockLists: flags.blockLists });
    if (flags.mode !== undefined) o.mode = flags.mode;
    if (flags.redis !== undefined) {
      o.counters.store = 'redis';
      o.counters.redisUrl = flags.redis;
    }
    return o;
  }

  private gateOf(req: EdgeRequest): EdgeGate {
    return (req.owner as EdgeGate | undefined) ?? this.current;
  }

  /** The configuration in force (the last one read; a refused reload leaves it). */
  get config(): EdgeOptions {
    return this.options;
  }

  /** The gate new requests meet (admin API, tests). */
  get edgeGate(): EdgeGate {
    return this.current;
  }

  /** Read the configuration again and swap the gate; on errors keep serving with the old one. */
  async reload(): Promise<ReloadResult> {
    let next: EdgeOptions;
    try {
      next = EdgeStack.read(this.flags);
    } catch (e) {
      return { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    const prev = this.current;
    const { waf: keepWaf, counters: keepCounters } = keepOnReload(this.options, next);
    const log = this.deps.log ?? ((l: string) => process.stderr.write(`${l}\n`));
    const counters = keepCounters ? this.counters : createCounterStore(next.counters, log);
    let gate: EdgeGate;
    try {
      gate = createEdgeGate(next, {
        counters,
        log,
        jsChallenge: prev.jsChallenge,
        ...(keepWaf && { waf: prev.waf }),
        ...(this.deps.now && { now: this.deps.now }),
      });
      // What the admin and live protection installed stays installed (an entry the new config makes invalid is dropped and said).
      for (const d of gate.runtime.adopt(prev.runtime.list())) log(`palisade: reload: runtime entry ${d.entry.id} dropped: ${d.reason}`);
    } catch (e) {
      if (!keepCounters) await counters.close();
      return { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    this.detachMetrics();
    this.detachMetrics = gate.observe(this.finished);
    this.current = gate;
    if (this.live !== null) {
      this.live.rebind(gate);
      // edge.mode and edge.live as the new file says; what cannot change without a restart is said.
      const fixed = this.live.reconfigure(next);
      if (fixed.length > 0) log(`palisade: reload: edge.live ${fixed.join(', ')} take effect at the next start`);
    }
    if (!keepCounters) {
      const old = this.counters;
      this.counters = counters;
      // In-flight requests of the old gate may still count: close its store a little later.
      setTimeout(() => void old.close(), 5000).unref();
    }
    this.options = next;
    this.reloads++;
    return { ok: true };
  }

  async close(): Promise<void> {
    this.live?.stop();
    this.detachMetrics();
    await this.admin?.close();
    await this.current.close();
    await this.counters.close();
  }
}
