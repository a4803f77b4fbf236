/**
 * The `notifications:` section of palisade.yaml: where alert and incident events go.
 *
 *   notifications:
 *     targets:
 *       noc-hook: { kind: webhook, url: https://hooks.example.net/palisade, secret: "…" }
 *       team:     { kind: slack, url: https://hooks.slack.com/services/… }
 *       oncall:   { kind: pagerduty, routing_key: "…" }          # url: the Events API v2 by default
 *       mail:     { kind: email, host: smtp.example.net, port: 587, from: palisade@example.net, to: [noc@example.net] }
 *     routes:
 *       - { targets: [noc-hook, team] }                                   # everything
 *       - { targets: [oncall], min_severity: critical, customers: [ACME] } # pages only for this
 */
import type { Node } from 'yaml';
import { isScalar } from 'yaml';
import { SEVERITIES, type Severity } from '../model/alert.js';
import type { ConfigReader } from './yaml.js';

export const PAGERDUTY_URL = 'https://events.pagerduty.com/v2/enqueue';

/** A receiver over HTTP: generic webhook, Slack-compatible incoming webhook, PagerDuty Events v2. */
export interface HttpTarget {
  name: string;
  kind: 'webhook' | 'slack' | 'pagerduty';
  url: string;
  /** webhook: HMAC key of the signature header */
  secret?: string;
  /** pagerduty: the integration's routing key */
  routingKey?: string;
  timeoutMs?: number;
}

/** A mailbox reached over SMTP. */
export interface EmailTarget {
  name: string;
  kind: 'email';
  host: string;
  port: number;
  /** TLS from the start (port 465); otherwise STARTTLS when the server offers it */
  secure?: boolean;
  user?: string;
  pass?: string;
  from: string;
  to: string[];
  timeoutMs?: number;
}

export type Target = HttpTarget | EmailTarget;

/** Which targets hear of which events (incidents/notify/routes.ts applies it). */
export interface NotifyRoute {
  /** target names (configured receivers) */
  targets: string[];
  /** the incident's severity at least this (default: any) */
  minSeverity?: Severity;
  /** only these customers (default: any) */
  customers?: string[];
  /** only these vectors (default: any) */
  vectors?: string[];
  /** only these event types, e.g. alert.start (default: all) */
  types?: string[];
}

export interface NotificationsSection {
  targets: Map<string, Target>;
  routes: NotifyRoute[];
}

const KINDS = ['webhook', 'slack', 'pagerduty', 'email'] as const;

function strings(cfg: ConfigReader, v: Node, what: string, near: Node): string[] {
  return cfg.seq(v, what, near).items.map((n) => cfg.string(n as Node, what, near));
}

function url(cfg: ConfigReader, v: Node, what: string, near: Node): string {
  const s = cfg.string(v, what, near);
  if (!/^https?:\/\/[^\s]+$/.test(s)) throw cfg.error(v, `${what} must be an http:// or https:// URL`);
  return s;
}

function secureOf(n: Node | undefined): boolean {
  return n !== undefined && isScalar(n) && n.value === true;
}

export function readNotifications(cfg: ConfigReader, node: Node, keyNode: Node): NotificationsSection {
  const out: NotificationsSection = { targets: new Map(), routes: [] };
  const m = cfg.map(node, 'notifications', keyNode);
  let routesNode: { v: Node; k: Node } | null = null;
  for (const item of m.items) {
    const key = cfg.keyOf(item);
    const v = item.value as Node;
    const k = item.key as Node;
    if (key === 'targets') {
      for (const t of cfg.map(v, 'notifications.targets', k).items) {
        const name = cfg.keyOf(t);
        const at = `notifications.targets.${name}`;
        const tm = cfg.map(t.value as Node, `${at} (a mapping with kind and its settings)`, t.key as Node);
        const f = new Map<string, { v: Node; k: Node }>();
        for (const x of tm.items) f.set(cfg.keyOf(x), { v: x.value as Node, k: x.key as Node });
        const kind = f.has('kind') ? cfg.string(f.get('kind')?.v, `${at}.kind`) : '';
        if (!(KINDS as readonly string[]).includes(kind)) throw cfg.error(f.get('kind')?.v ?? (t.key as Node), `${at}.kind must be one of ${KINDS.join(', ')}`);
        const allowed: Record<string, string[]> = {
          webhook: ['kind', 'url', 'secret', 'timeout_ms'],
          slack: ['kind', 'url', 'timeout_ms'],
          pagerduty: ['kind', 'routing_key', 'url', 'timeout_ms'],
          email: ['kind', 'host', 'port', 'secure', 'user', 'pass', 'from', 'to', 'timeout_ms'],
        };
        for (const [fk, fv] of f) if (!allowed[kind]?.includes(fk)) throw cfg.error(fv.k, `${at}: unknown key ${fk} for a ${kind} target (${allowed[kind]?.join(', ')})`);
        const timeoutMs = f.has('timeout_ms') ? cfg.number(f.get('timeout_ms')?.v, `${at}.timeout_ms`, 100, 120_000, true) : undefined;
        const need = (key: string): { v: Node; k: Node } => {
          const x = f.get(key);
          if (x === undefined) throw cfg.error(t.key as Node, `${at} (${kind}) needs ${key}`);
          return x;
        };
        let target: Target;
        if (kind === 'email') {
          const to = strings(cfg, need('to').v, `${at}.to`, need('to').k);
          if (to.length === 0) throw cfg.error(need('to').v, `${at}.to needs an address`);
          target = {
            name,
            kind: 'email',
            host: cfg.string(need('host').v, `${at}.host`),
            port: cfg.number(need('port').v, `${at}.port`, 1, 65535, true),
            from: cfg.string(need('from').v, `${at}.from`),
            to,
            ...(f.has('secure') && { secure: secureOf(f.get('secure')?.v) }),
            ...(f.has('user') && { user: cfg.string(f.get('user')?.v, `${at}.user`) }),
            ...(f.has('pass') && { pass: cfg.string(f.get('pass')?.v, `${at}.pass`) }),
          };
        } else if (kind === 'pagerduty') {
          target = {
            name,
            kind: 'pagerduty',
            url: f.has('url') ? url(cfg, f.get('url')?.v as Node, `${at}.url`, t.key as Node) : PAGERDUTY_URL,
            routingKey: cfg.string(need('routing_key').v, `${at}.routing_key`),
          };
        } else {
          target = {
            name,
            kind: kind as 'webhook' | 'slack',
            url: url(cfg, need('url').v, `${at}.url`, need('url').k),
            ...(f.has('secret') && { secret: cfg.string(f.get('secret')?.v, `${at}.secret`) }),
          };
        }
        if (timeoutMs !== undefined) target.timeoutMs = timeoutMs;
        out.targets.set(name, target);
      }
    } else if (key === 'routes') routesNode = { v, k };
    else throw cfg.error(k, `unknown key notifications.${key} (targets, routes)`);
  }
  if (routesNode !== null) {
    cfg.seq(routesNode.v, 'notifications.routes', routesNode.k).items.forEach((n, i) => {
      const at = `notifications.routes[${i}]`;
      const r: NotifyRoute = { targets: [] };
      for (const x of cfg.map(n as Node, `${at} (a mapping with targets)`).items) {
        const key = cfg.keyOf(x);
        const v = x.value as Node;
        const k = x.key as Node;
        if (key === 'targets') {
          r.targets = strings(cfg, v, `${at}.targets`, k);
          for (const t of r.targets) if (!out.targets.has(t)) throw cfg.error(v, `${at}.targets: no target named ${t}`);
        } else if (key === 'min_severity') {
          const s = cfg.string(v, `${at}.min_severity`, k);
          if (!(SEVERITIES as readonly string[]).includes(s)) throw cfg.error(v, `${at}.min_severity must be one of ${SEVERITIES.join(', ')}`);
          r.minSeverity = s as Severity;
        } else if (key === 'customers') r.customers = strings(cfg, v, `${at}.customers`, k);
        else if (key === 'vectors') r.vectors = strings(cfg, v, `${at}.vectors`, k);
        else if (key === 'types') r.types = strings(cfg, v, `${at}.types`, k);
        else throw cfg.error(k, `${at}: unknown key ${key} (targets, min_severity, customers, vectors, types)`);
      }
      if (r.targets.length === 0) throw cfg.error(n as Node, `${at} needs targets`);
      out.routes.push(r);
    });
  }
  return out;
}
