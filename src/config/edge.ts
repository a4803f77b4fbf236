/**
 * The `edge:` section of palisade.yaml: what `palisade edge` applies to requests, phase by phase.
 *
 *   edge:
 *     mode: auto                  # live L7 protection: auto | suggest | off
 *     lists:                      # the ruleset format's lists: block, allow, named, from files or inline
 *       drop:   { kind: block, file: drop.txt, format: spamhaus }
 *       office: { kind: allow, entries: [192.0.2.0/24] }
 *     ruleset: rules.yaml         # or inline: { lists: ..., rules: [...] } / [rules], as `palisade mitigate` reads
 *     waf:
 *       mode: block               # block | detect | off
 *       paranoia: 1
 *       body_limit: 131072
 *       exclusions:
 *         - { path_prefix: /api/upload, ids: [920420], tags: [attack-protocol] }
 *         - { ids: ["942100-942199"] }            # every path
 *       crs_setup:                # the CRS's tx. settings (crs-setup.conf), e.g. its DoS protection;
 *         dos_burst_time_slice: 60   # state it keeps (IP, GLOBAL, ...) lives beside the counters
 *         dos_counter_threshold: 100
 *         dos_block_timeout: 600
 *     counters:
 *       store: redis              # memory | redis
 *       redis_url: redis://127.0.0.1:6379
 *       fail: open                # open | closed
 *       timeout_ms: 100
 *       prefix: "palisade:rl:"
 *     live:                       # live L7 protection (proxy/live/): limits of what `mode: auto` installs
 *       window_s: 5               # detector window; decisions are taken at each window's close
 *       release_after_s: 300      # a rule goes once its attack has been quiet this long (back: installed again)
 *       max_rules: 20             # auto rules, rate limits and lists installed at once
 *       max_list_size: 10000      # addresses and prefixes in auto lists, all together
 *       min_attack_requests: 100  # an attack smaller than this (its class requests) is left alone
 *       max_collateral: 0.001     # a field signature is installed only at or under this measured collateral
 *       rate_limits: true         # with a source list, also the attack's Cloudflare-shaped rate limit
 *       buffer_requests: 200000   # recent requests kept to measure signatures on (an estimate over them)
 *       replan_s: 30              # an attack's mitigation is planned again this often while it lasts
 *       decisions_kept: 1000      # decisions the admin API can show
 *       log: stderr               # decisions as JSON lines: stderr, off, or a file
 *     challenge:                  # the JavaScript challenge (proxy/challenge/)
 *       secret: "…"               # HMAC key of seeds and clearances, 16+ characters; absent: made at start
 *       difficulty_bits: 16       # leading zero bits of the proof of work (16: well under a second)
 *       clearance_ttl_s: 1800     # how long a passed challenge is honoured
 *       cookie_name: palisade_clearance
 *
 * Lists and an inline ruleset are read by the ruleset parser itself (mitigate/ruleset.ts and
 * http-ruleset.ts), handed the section's own text at its own lines and columns, so their errors
 * name palisade.yaml's line and column; file paths are relative to palisade.yaml. Every problem
 * of the section is collected; the error thrown lists them all (a reload keeps the old config).
 */
import { dirname, isAbsolute, join } from 'node:path';
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import { ConfigError } from '../core/errors.js';
import { type HttpRuleset, loadHttpRuleset, parseHttpRuleset } from '../mitigate/http-ruleset.js';
import type { IpList } from '../mitigate/lists.js';
import { parseRuleset, RulesetError } from '../mitigate/ruleset.js';
import { ConfigReader, readConfigText } from './yaml.js';

export interface EdgeWafExclusion {
  /** Requests whose path starts with this (null: every request, the rules removed at load). */
  pathPrefix: string | null;
  ids: Array<number | [number, number]>;
  tags: string[];
}

export interface EdgeWafOptions {
  enabled: boolean;
  mode: 'block' | 'detect';
  paranoia: 1 | 2 | 3 | 4;
  /** Request body bytes the WAF inspects (the transport reads this much before deciding). */
  bodyLimit: number;
  exclusions: EdgeWafExclusion[];
  /** CRS directory (default: Debian's /usr/share/modsecurity-crs). */
  crsPath?: string;
  /** further CRS `tx.` settings (crs-setup.conf's), e.g. the DoS protection's `dos_burst_time_slice` */
  crsSetup: Record<string, string | number>;
}

export interface EdgeCounterOptions {
  store: 'memory' | 'redis';
  redisUrl: string;
  fail: 'open' | 'closed';
  timeoutMs: number;
  prefix: string;
}

/** The JavaScript challenge (issue 16 item 4; proxy/challenge/). */
export interface EdgeChallengeOptions {
  /**
   * HMAC-SHA256 key of the seeds and clearance cookies. Absent: one is made when the process
   * starts (proxy/challenge/secret.ts); give one so that several proxies, or a restart, honour
   * each other's clearances.
   */
  secret?: string;
  /** Leading zero bits the proof of work must reach (each bit doubles the browser's work). */
  difficultyBits: number;
  /** Seconds a clearance cookie is honoured. */
  clearanceTtlS: number;
  cookieName: string;
}

/** Live L7 protection's limits (issue 16 item 8; proxy/live/). The mode is `edge.mode`. */
export interface EdgeLiveOptions {
  windowS: number;
  releaseAfterS: number;
  maxRules: number;
  maxListSize: number;
  minAttackRequests: number;
  maxCollateral: number;
  rateLimits: boolean;
  bufferRequests: number;
  replanS: number;
  decisionsKept: number;
  /** `stderr`, `off`, or a file the decisions are appended to. */
  log: string;
}

export function defaultLiveOptions(): EdgeLiveOptions {
  return {
    windowS: 5,
    releaseAfterS: 300,
    maxRules: 20,
    maxListSize: 10_000,
    minAttackRequests: 100,
    maxCollateral: 0.001,
    rateLimits: true,
    bufferRequests: 200_000,
    replanS: 30,
    decisionsKept: 1000,
    log: 'stderr',
  };
}

export interface EdgeOptions {
  /** The edge's own IP lists (the ruleset's lists come with the ruleset). */
  lists: IpList[];
  ruleset: HttpRuleset | null;
  waf: EdgeWafOptions;
  counters: EdgeCounterOptions;
  challenge: EdgeChallengeOptions;
  mode: 'auto' | 'suggest' | 'off';
  live: EdgeLiveOptions;
}

export function defaultEdgeOptions(): EdgeOptions {
  return {
    lists: [],
    ruleset: null,
    waf: { enabled: true, mode: 'block', paranoia: 1, bodyLimit: 128 * 1024, exclusions: [], crsSetup: {} },
    counters: { store: 'memory', redisUrl: 'redis://127.0.0.1:6379', fail: 'open', timeoutMs: 100, prefix: 'palisade:rl:' },
    challenge: { difficultyBits: 16, clearanceTtlS: 1800, cookieName: 'palisade_clearance' },
    mode: 'auto',
    live: defaultLiveOptions(),
  };
}

export interface ConfigProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** Every problem of the edge section, one `file:line:col: message` line each. */
export class EdgeConfigError extends ConfigError {
  constructor(readonly problems: ConfigProblem[]) {
    const first = problems[0] as ConfigProblem;
    super(first.message, first.file, first.line, first.column);
    this.name = 'EdgeConfigError';
    this.message = problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`).join('\n');
  }
}

/** Read palisade.yaml's `edge:` section (defaults when the file has none). */
export function loadEdgeConfig(file: string): EdgeOptions {
  return parseEdgeConfig(readConfigText(file), file);
}

/** The `edge:` section of palisade.yaml's text; other sections are left to their readers. */
export function parseEdgeConfig(text: string, file: string): EdgeOptions {
  const cfg = new ConfigReader(file, text);
  const root = cfg.root;
  if (root === null || !isMap(root)) return defaultEdgeOptions();
  for (const item of root.items) {
    if (cfg.keyOf(item) === 'edge') return readEdge(cfg, item.value as Node | null, item.key as Node, text);
  }
  return defaultEdgeOptions();
}

/** Text that parses as `node` alone at the same lines and columns (for the ruleset parser's positions). */
function textAt(text: string, start: number, end: number): string {
  const before = text.slice(0, start);
  const lines = before.split('\n');
  const col = (lines[lines.length - 1] as string).length;
  return '\n'.repeat(lines.length - 1) + ' '.repeat(col) + text.slice(start, end);
}

export function readEdge(cfg: ConfigReader, node: Node | null, keyNode: Node, text: string): EdgeOptions {
  const out = defaultEdgeOptions();
  if (node === null || (isScalar(node) && node.value === null)) return out;
  const problems: ConfigProblem[] = [];
  const baseDir = dirname(cfg.file);
  const take = (e: unknown): void => {
    if (e instanceof RulesetError) for (const p of e.problems) problems.push({ file: e.file, line: p.line, column: p.column, message: p.message });
    else if (e instanceof ConfigError) problems.push({ file: e.file, line: e.line, column: e.column, message: e.message.replace(/^.*?:\d+:\d+: /, '') });
    else throw e;
  };
  const tryTo = (f: () => void): void => {
    try {
      f();
    } catch (e) {
      take(e);
    }
  };
  let m: ReturnType<ConfigReader['map']>;
  try {
    m = cfg.map(node, 'edge', keyNode);
  } catch (e) {
    take(e);
    throw new EdgeConfigError(problems);
  }
  for (const item of m.items) {
    const key = cfg.keyOf(item);
    const val = item.value as Node | null;
    const near = item.key as Node;
    tryTo(() => {
      switch (key) {
        case 'mode': {
          const v = cfg.string(val, 'edge.mode', near);
          if (v !== 'auto' && v !== 'suggest' && v !== 'off') throw cfg.error(val, 'edge.mode must be auto, suggest or off');
          out.mode = v;
          break;
        }
        case 'lists': {
          if (!isMap(val) && !isSeq(val)) throw cfg.error(val, 'edge.lists must be a mapping of name to list (kind, file or entries, format) or a list of such with name', near);
          // The ruleset parser reads the `lists:` key and its value, at their places in the file.
          const k = (near.range as [number, number, number])[0];
          const end = (val.range as [number, number, number])[1];
          const rs = parseRuleset(textAt(text, k, end), cfg.file, { baseDir, listsOnly: true });
          out.lists = rs.lists.all();
          break;
        }
        case 'ruleset':
          out.ruleset = readRuleset(cfg, val, near, text, baseDir);
          break;
        case 'waf':
          readWaf(cfg, val, near, out.waf, tryTo);
          break;
        case 'counters':
          readCounters(cfg, val, near, out.counters, tryTo);
          break;
        case 'challenge':
          readChallenge(cfg, val, near, out.challenge, tryTo);
          break;
        case 'live':
          readLive(cfg, val, near, out.live, tryTo, dirname(cfg.file));
          break;
        default:
          throw cfg.error(near, `unknown key edge.${key} (mode, lists, ruleset, waf, counters, challenge, live)`);
      }
    });
  }
  if (problems.length > 0) throw new EdgeConfigError(problems);
  return out;
}

function readRuleset(cfg: ConfigReader, val: Node | null, near: Node, text: string, baseDir: string): HttpRuleset {
  if (isScalar(val) && typeof val.value === 'string') {
    const f = isAbsolute(val.value) ? val.value : join(baseDir, val.value);
    try {
      return loadHttpRuleset(f);
    } catch (e) {
      if (e instanceof RulesetError) throw e;
      throw cfg.error(val, `edge.ruleset: ${(e as Error).message}`);
    }
  }
  if (!isMap(val) && !isSeq(val)) throw cfg.error(val, 'edge.ruleset must be a ruleset file, or rules inline ({ lists, rules } or a list of rules)', near);
  const [start, end] = val.range as [number, number, number];
  return parseHttpRuleset(textAt(text, start, end), cfg.file, { baseDir });
}

const ID_RANGE = /^(\d+)(?:-(\d+))?$/;

function readWaf(cfg: ConfigReader, val: Node | null, near: Node, w: EdgeWafOptions, tryTo: (f: () => void) => void): void {
  if (isScalar(val) && (val.value === false || val.value === 'off')) {
    w.enabled = false;
    return;
  }
  const m = cfg.map(val, 'edge.waf', near);
  for (const item of m.items) {
    const key = cfg.keyOf(item);
    const v = item.value as Node | null;
    const k = item.key as Node;
    tryTo(() => {
      switch (key) {
        case 'mode': {
          const s = cfg.string(v, 'edge.waf.mode', k);
          if (s === 'off') w.enabled = false;
          else if (s === 'block' || s === 'detect') w.mode = s;
          else throw cfg.error(v, 'edge.waf.mode must be block, detect or off');
          break;
        }
        case 'paranoia':
          w.paranoia = cfg.number(v, 'edge.waf.paranoia', 1, 4, true, k) as 1 | 2 | 3 | 4;
          break;
        case 'body_limit':
          w.bodyLimit = cfg.number(v, 'edge.waf.body_limit', 0, 64 * 1024 * 1024, true, k);
          break;
        case 'crs_path':
          w.crsPath = cfg.string(v, 'edge.waf.crs_path', k);
          break;
        case 'exclusions':
          cfg.seq(v, 'edge.waf.exclusions', k).items.forEach((x, i) => {
            tryTo(() => {
              w.exclusions.push(readExclusion(cfg, x, `edge.waf.exclusions[${i}]`));
            });
          });
          break;
        case 'crs_setup':
          for (const x of cfg.map(v, 'edge.waf.crs_setup', k).items) {
            const name = cfg.keyOf(x);
            const xv = x.value as Node | null;
            if (!/^[a-z][a-z0-9_]*$/i.test(name)) throw cfg.error(x.key as Node, `edge.waf.crs_setup: ${JSON.stringify(name)} is not a CRS setting name (letters, digits, _)`);
            if (!isScalar(xv) || (typeof xv.value !== 'number' && typeof xv.value !== 'string') || /['"\\,]/.test(String(xv.value))) {
              throw cfg.error(xv ?? (x.key as Node), `edge.waf.crs_setup.${name} must be a number or a plain string`);
            }
            w.crsSetup[name] = xv.value;
          }
          break;
        default:
          throw cfg.error(k, `unknown key edge.waf.${key} (mode, paranoia, body_limit, exclusions, crs_path, crs_setup)`);
      }
    });
  }
}

function readExclusion(cfg: ConfigReader, node: Node, at: string): EdgeWafExclusion {
  const m = cfg.map(node, `${at} (a mapping with path_prefix, ids, tags)`);
  const x: EdgeWafExclusion = { pathPrefix: null, ids: [], tags: [] };
  for (const item of m.items) {
    const key = cfg.keyOf(item);
    const v = item.value as Node | null;
    const k = item.key as Node;
    if (key === 'path_prefix') {
      const p = cfg.string(v, `${at}.path_prefix`, k);
      if (!p.startsWith('/')) throw cfg.error(v, `${at}.path_prefix must start with /`);
      x.pathPrefix = p;
    } else if (key === 'ids') {
      for (const n of cfg.seq(v, `${at}.ids`, k).items) {
        const raw = isScalar(n) ? String(n.value) : '';
        const r = ID_RANGE.exec(raw);
        if (r === null) throw cfg.error(n, `${at}.ids: a rule id or an id range ("942100-942199"), not ${JSON.stringify(raw)}`);
        const a = Number(r[1]);
        const b = r[2] === undefined ? null : Number(r[2]);
        if (b !== null && b < a) throw cfg.error(n, `${at}.ids: range ${raw} ends before it starts`);
        x.ids.push(b === null ? a : [a, b]);
      }
    } else if (key === 'tags') {
      for (const n of cfg.seq(v, `${at}.tags`, k).items) x.tags.push(cfg.string(n, `${at}.tags[]`));
    } else throw cfg.error(k, `${at}: unknown key ${key} (path_prefix, ids, tags)`);
  }
  if (x.ids.length === 0 && x.tags.length === 0) throw cfg.error(node, `${at} excludes nothing: give ids or tags`);
  return x;
}

function readCounters(cfg: ConfigReader, val: Node | null, near: Node, c: EdgeCounterOptions, tryTo: (f: () => void) => void): void {
  const m = cfg.map(val, 'edge.counters', near);
  for (const item of m.items) {
    const key = cfg.keyOf(item);
    const v = item.value as Node | null;
    const k = item.key as Node;
    tryTo(() => {
      switch (key) {
        case 'store': {
          const s = cfg.string(v, 'edge.counters.store', k);
          if (s !== 'memory' && s !== 'redis') throw cfg.error(v, 'edge.counters.store must be memory or redis');
          c.store = s;
          break;
        }
        case 'redis_url': {
          const s = cfg.string(v, 'edge.counters.redis_url', k);
          if (!/^rediss?:\/\//.test(s)) throw cfg.error(v, 'edge.counters.redis_url must be a redis:// or rediss:// URL');
          c.redisUrl = s;
          break;
        }
        case 'fail': {
          const s = cfg.string(v, 'edge.counters.fail', k);
          if (s !== 'open' && s !== 'closed') throw cfg.error(v, 'edge.counters.fail must be open or closed');
          c.fail = s;
          break;
        }
        case 'timeout_ms':
          c.timeoutMs = cfg.number(v, 'edge.counters.timeout_ms', 1, 10000, true, k);
          break;
        case 'prefix':
          c.prefix = cfg.string(v, 'edge.counters.prefix', k);
          break;
        default:
          throw cfg.error(k, `unknown key edge.counters.${key} (store, redis_url, fail, timeout_ms, prefix)`);
      }
    });
  }
}

/** A cookie name as RFC 6265 allows it (an HTTP token). */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/;

function readChallenge(cfg: ConfigReader, val: Node | null, near: Node, c: EdgeChallengeOptions, tryTo: (f: () => void) => void): void {
  const m = cfg.map(val, 'edge.challenge', near);
  for (const item of m.items) {
    const key = cfg.keyOf(item);
    const v = item.value as Node | null;
    const k = item.key as Node;
    tryTo(() => {
      switch (key) {
        case 'secret': {
          const s = cfg.string(v, 'edge.challenge.secret', k);
          // Shorter keys would be guessable offline from one cookie.
          if (Buffer.byteLength(s, 'utf8') < 16) throw cfg.error(v, 'edge.challenge.secret must be at least 16 characters (32 random ones are better)');
          c.secret = s;
          break;
        }
        case 'difficulty_bits':
          // 24 bits is about 16 million hashes, many seconds on a phone: beyond it nobody gets through.
          c.difficultyBits = cfg.number(v, 'edge.challenge.difficulty_bits', 0, 24, true, k);
          break;
        case 'clearance_ttl_s':
          c.clearanceTtlS = cfg.number(v, 'edge.challenge.clearance_ttl_s', 10, 7 * 86400, true, k);
          break;
        case 'cookie_name': {
          const s = cfg.string(v, 'edge.challenge.cookie_name', k);
          if (!COOKIE_NAME.test(s)) throw cfg.error(v, "edge.challenge.cookie_name must be a cookie name: letters, digits and !#$%&'*+-.^_`|~, at most 64");
          c.cookieName = s;
          break;
        }
        default:
          throw cfg.error(k, `unknown key edge.challenge.${key} (secret, difficulty_bits, clearance_ttl_s, cookie_name)`);
      }
    });
  }
}

function readLive(cfg: ConfigReader, val: Node | null, near: Node, l: EdgeLiveOptions, tryTo: (f: () => void) => void, baseDir: string): void {
  const m = cfg.map(val, 'edge.live', near);
  for (const item of m.items) {
    const key = cfg.keyOf(item);
    const v = item.value as Node | null;
    const k = item.key as Node;
    const int = (name: string, min: number, max: number): number => cfg.number(v, `edge.live.${name}`, min, max, true, k);
    tryTo(() => {
      switch (key) {
        case 'window_s':
          l.windowS = int(key, 1, 60);
          break;
        case 'release_after_s':
          l.releaseAfterS = int(key, 10, 7 * 86400);
          break;
        case 'max_rules':
          l.maxRules = int(key, 0, 1000);
          break;
        case 'max_list_size':
          l.maxListSize = int(key, 0, 1_000_000);
          break;
        case 'min_attack_requests':
          l.minAttackRequests = int(key, 1, 1e9);
          break;
        case 'max_collateral':
          // Above the detector's own bar (0.1 %) a field signature is not offered at all.
          l.maxCollateral = cfg.number(v, 'edge.live.max_collateral', 0, 0.001, false, k);
          break;
        case 'rate_limits': {
          const x = isScalar(v) ? v.value : undefined;
          if (typeof x !== 'boolean') throw cfg.error(v, 'edge.live.rate_limits must be true or false');
          l.rateLimits = x;
          break;
        }
        case 'buffer_requests':
          l.bufferRequests = int(key, 1000, 10_000_000);
          break;
        case 'replan_s':
          l.replanS = int(key, 5, 3600);
          break;
        case 'decisions_kept':
          l.decisionsKept = int(key, 10, 1_000_000);
          break;
        case 'log': {
          const s = cfg.string(v, 'edge.live.log', k);
          l.log = s === 'stderr' || s === 'off' || isAbsolute(s) ? s : join(baseDir, s);
          break;
        }
        default:
          throw cfg.error(
            k,
            `unknown key edge.live.${key} (window_s, release_after_s, max_rules, max_list_size, min_attack_requests, max_collateral, rate_limits, buffer_requests, replan_s, decisions_kept, log)`,
          );
      }
    });
  }
}
