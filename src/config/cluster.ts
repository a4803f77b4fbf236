/**
 * The `cluster:` section of palisade.yaml: the multi-node mode's endpoints and this node's place,
 * the same settings as the --cluster, --site, --node, --spool, --redis and --nats-* flags (a flag
 * given on the command line wins over the file).
 *
 *   cluster:
 *     nats: nats://nats-1:4222,nats://nats-2:4222   # or tls://…; user:pass@ allowed
 *     site: ams
 *     node: r1                                       # default: <role>-<host name>
 *     spool: /var/lib/palisade/spool                 # events wait here while NATS is away
 *     redis: redis://redis:6379                      # decisions in force (and the edge's counters)
 *     nats_token: "…"                                # or nats_creds: /etc/palisade/nats.creds
 *     nats_tls: { ca: /etc/palisade/ca.pem, cert: …, key: … }
 *     correlate: { sites: [ams, fra], wait_s: 3, decisions_key: "palisade:decisions" }
 *     metrics: 127.0.0.1:9101                        # Prometheus /metrics of this node
 *     stream: { max_gib: 8, max_age_days: 7, replicas: 3 }  # the event stream's retention (applied by this node)
 */
import type { Node } from 'yaml';
import type { ConfigReader } from './yaml.js';

export interface ClusterSection {
  nats?: string;
  site?: string;
  node?: string;
  spool?: string;
  redis?: string;
  natsToken?: string;
  natsCreds?: string;
  natsTls?: { ca?: string; cert?: string; key?: string };
  correlate?: { sites?: string[]; waitS?: number; decisionsKey?: string };
  metrics?: string;
  /** The JetStream stream's retention, in bytes and ms (a key not given takes the default). */
  stream?: { maxBytes?: number; maxAgeMs?: number; replicas?: number };
}

const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

export function readCluster(cfg: ConfigReader, val: Node, near: Node): ClusterSection {
  const m = cfg.map(val, 'cluster', near);
  const out: ClusterSection = {};
  for (const item of m.items) {
    const key = cfg.keyOf(item);
    const v = item.value as Node;
    const k = item.key as Node;
    switch (key) {
      case 'nats': {
        const s = cfg.string(v, 'cluster.nats', k);
        if (!s.split(',').every((u) => /^(nats|tls):\/\/\S+$/.test(u.trim()) || /^[\w.-]+:\d+$/.test(u.trim())))
          throw cfg.error(v, 'cluster.nats must be nats://host:port or tls://host:port (comma-separated for several)');
        out.nats = s;
        break;
      }
      case 'site':
      case 'node': {
        const s = cfg.string(v, `cluster.${key}`, k);
        if (!TOKEN.test(s)) throw cfg.error(v, `cluster.${key} must be 1 to 64 letters, digits, _ or - (it is a NATS subject token)`);
        out[key] = s;
        break;
      }
      case 'spool':
        out.spool = cfg.string(v, 'cluster.spool', k);
        break;
      case 'redis': {
        const s = cfg.string(v, 'cluster.redis', k);
        if (!/^rediss?:\/\//.test(s)) throw cfg.error(v, 'cluster.redis must be a redis:// or rediss:// URL');
        out.redis = s;
        break;
      }
      case 'nats_token':
        out.natsToken = cfg.string(v, 'cluster.nats_token', k);
        break;
      case 'nats_creds':
        out.natsCreds = cfg.string(v, 'cluster.nats_creds', k);
        break;
      case 'nats_tls': {
        const t = cfg.map(v, 'cluster.nats_tls', k);
        const tls: NonNullable<ClusterSection['natsTls']> = {};
        for (const ti of t.items) {
          const tk = cfg.keyOf(ti);
          if (tk !== 'ca' && tk !== 'cert' && tk !== 'key') throw cfg.error(ti.key as Node, `unknown key cluster.nats_tls.${tk} (ca, cert, key)`);
          tls[tk] = cfg.string(ti.value as Node, `cluster.nats_tls.${tk}`, ti.key as Node);
        }
        out.natsTls = tls;
        break;
      }
      case 'correlate': {
        const c = cfg.map(v, 'cluster.correlate', k);
        const cor: NonNullable<ClusterSection['correlate']> = {};
        for (const ci of c.items) {
          const ck = cfg.keyOf(ci);
          const cv = ci.value as Node;
          if (ck === 'sites') {
            cor.sites = cfg.seq(cv, 'cluster.correlate.sites', ci.key as Node).items.map((x) => {
              const s = cfg.string(x as Node, 'a site of cluster.correlate.sites');
              if (!TOKEN.test(s)) throw cfg.error(x as Node, 'a site is 1 to 64 letters, digits, _ or -');
              return s;
            });
          } else if (ck === 'wait_s') cor.waitS = cfg.number(cv, 'cluster.correlate.wait_s', 0, 600, false, ci.key as Node);
          else if (ck === 'decisions_key') cor.decisionsKey = cfg.string(cv, 'cluster.correlate.decisions_key', ci.key as Node);
          else throw cfg.error(ci.key as Node, `unknown key cluster.correlate.${ck} (sites, wait_s, decisions_key)`);
        }
        out.correlate = cor;
        break;
      }
      case 'metrics': {
        const s = cfg.string(v, 'cluster.metrics', k);
        if (!/^[^\s:]*:\d+$|^\[[0-9a-fA-F:]+\]:\d+$/.test(s)) throw cfg.error(v, 'cluster.metrics must be HOST:PORT');
        out.metrics = s;
        break;
      }
      case 'stream': {
        const t = cfg.map(v, 'cluster.stream', k);
        const st: NonNullable<ClusterSection['stream']> = {};
        for (const si of t.items) {
          const sk = cfg.keyOf(si);
          const sv = si.value as Node;
          // Bounded to what a disk holds and what JetStream's nanosecond ages express; at least a minute, or the correlator could not catch up at all.
          if (sk === 'max_gib') st.maxBytes = Math.round(cfg.number(sv, 'cluster.stream.max_gib', 0.01, 100_000, false, si.key as Node) * 1024 ** 3);
          else if (sk === 'max_age_days') st.maxAgeMs = Math.round(cfg.number(sv, 'cluster.stream.max_age_days', 1 / 1440, 3650, false, si.key as Node) * 86_400_000);
          else if (sk === 'replicas') st.replicas = cfg.number(sv, 'cluster.stream.replicas', 1, 5, true, si.key as Node);
          else throw cfg.error(si.key as Node, `unknown key cluster.stream.${sk} (max_gib, max_age_days, replicas)`);
        }
        out.stream = st;
        break;
      }
      default:
        throw cfg.error(k, `unknown key cluster.${key} (nats, site, node, spool, redis, nats_token, nats_creds, nats_tls, correlate, metrics, stream)`);
    }
  }
  return out;
}
