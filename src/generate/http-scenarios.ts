/**
 * The packet scenarios of L7 attacks on a web server's cleartext HTTP (port 80 of
 * 203.0.113.10, site www.example.com), over the benign mix and browsers visiting the same site.
 * Named as the vector scenarios are (`tcp_syn_flood` …). Part of the catalogue in scenarios.ts.
 *
 * The flood starts after a minute of ordinary traffic, the time L7 detection needs to learn the
 * site's rate. Its rate follows the packet count like every part's: at 250,000 packets the bots
 * send about 1 request/s each (0.4-1.6x that, bot to bot).
 */
import { host4 } from './addresses.js';
import type { Scenario } from './scenarios.js';

export const HTTP_SCENARIOS: Scenario[] = [
  {
    name: 'http_flood',
    description: 'HTTP GET flood on www.example.com (203.0.113.10:80) from 200-400 bots with complete handshakes, from 75 s to 115 s, over browsers visiting the site',
    plan: () => ({
      duration: 150,
      parts: [
        { kind: 'benign', weight: 1, t0: 0, t1: 150 },
        { kind: 'web', weight: 0.4, t0: 0, t1: 150, target: host4(10) },
        { kind: 'attack', weight: 6, t0: 75, t1: 115, vector: 'http_flood', target: { victim: host4(10), port: 80 } },
      ],
    }),
  },
  {
    name: 'slowloris',
    description:
      'slowloris on www.example.com (203.0.113.10:80): 2-4 hosts holding 150-300 connections each with a header line every 10-15 s, from 20 s to 140 s, while browsers complete requests',
    plan: () => ({
      duration: 150,
      parts: [
        { kind: 'benign', weight: 1, t0: 0, t1: 150 },
        { kind: 'web', weight: 0.4, t0: 0, t1: 150, target: host4(10) },
        // Slow by nature: its packets do not follow the weight (which only sizes the others).
        { kind: 'attack', weight: 0.05, t0: 20, t1: 140, vector: 'slowloris', target: { victim: host4(10), port: 80 } },
      ],
    }),
  },
];
