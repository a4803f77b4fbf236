/**
 * palisade.yaml (DESIGN.md "Configuration"): one loader that validates the whole file and gives
 * each layer its typed section. Every error is a ConfigError naming the file, line and column.
 * Layers never read the file: they take the section (detection: DetectionSection).
 */
import type { Node } from 'yaml';
import { type ClusterSection, readCluster } from './cluster.js';
import { type DetectionSection, readDetection } from './detection.js';
import { defaultEdgeOptions, type EdgeOptions, readEdge } from './edge.js';
import { type NotificationsSection, readNotifications } from './notifications.js';
import { readServices, type Service } from './services.js';
import { ConfigReader, readConfigText } from './yaml.js';

export interface PalisadeConfig {
  /** The file read (null: none, every section at its defaults). */
  file: string | null;
  detection: DetectionSection;
  /** `palisade edge`: lists, rulesets, WAF, counters (config/edge.ts). */
  edge: EdgeOptions;
  /** The protected services (prefixes, tier, customer, link capacity): alert triage. */
  services: Service[];
  /** Where alert and incident events are sent (targets and routes). */
  notifications: NotificationsSection;
  /** The multi-node mode: NATS, Redis, this node's site and name (the --cluster flags' defaults). */
  cluster: ClusterSection;
}

/** The top-level sections and their readers. */
const SECTIONS = ['detection', 'edge', 'services', 'notifications', 'cluster'] as const;

export function loadConfig(file: string): PalisadeConfig {
  return parseConfig(readConfigText(file), file);
}

/** Validate configuration text (`file` names it in errors). */
export function parseConfig(text: string, file: string): PalisadeConfig {
  const cfg = new ConfigReader(file, text);
  const out: PalisadeConfig = { file, detection: {}, edge: defaultEdgeOptions(), services: [], notifications: { targets: new Map(), routes: [] }, cluster: {} };
  const root = cfg.root;
  if (root === null || (root as { value?: unknown }).value === null) return out;
  const top = cfg.map(root, 'the top of palisade.yaml');
  for (const item of top.items) {
    const key = cfg.keyOf(item);
    const val = item.value as Node | null;
    switch (key) {
      case 'detection':
        // An empty section (`detection:`) is every default.
        if (val !== null && (val as { value?: unknown }).value !== null) out.detection = readDetection(cfg, val, item.key as Node);
        break;
      case 'edge':
        out.edge = readEdge(cfg, val, item.key as Node, text);
        break;
      case 'notifications':
        if (val !== null && (val as { value?: unknown }).value !== null) out.notifications = readNotifications(cfg, val, item.key as Node);
        break;
      case 'services':
        if (val !== null && (val as { value?: unknown }).value !== null) out.services = readServices(cfg, val, item.key as Node);
        break;
      case 'cluster':
        if (val !== null && (val as { value?: unknown }).value !== null) out.cluster = readCluster(cfg, val, item.key as Node);
        break;
      default:
        throw cfg.error(item.key as Node, `unknown section ${key} (${SECTIONS.join(', ')})`);
    }
  }
  return out;
}
