/**
 * Attack traffic per vector in one second: what the console's overview charts as "traffic by
 * vector" and what a per-second summary stores beside its totals. L3/4 attacks give packets and
 * bytes (of the packets the detector attributed to them in that second), L7 attacks requests.
 */
export interface VectorTraffic {
  packets: number;
  bytes: number;
  requests: number;
}

export type TrafficByVector = Record<string, VectorTraffic>;

/** Adds one attack's share of a second into `into` (under its vector). */
export function addVectorTraffic(into: TrafficByVector, vector: string, packets: number, bytes: number, requests: number): void {
  const t = into[vector] ?? { packets: 0, bytes: 0, requests: 0 };
  t.packets += packets;
  t.bytes += bytes;
  t.requests += requests;
  into[vector] = t;
}

/** Adds every vector of `from` into `into` (sensors of one second, seconds of one bin). */
export function mergeVectorTraffic(into: TrafficByVector, from: TrafficByVector | undefined): void {
  if (from === undefined) return;
  for (const [v, t] of Object.entries(from)) addVectorTraffic(into, v, t.packets, t.bytes, t.requests);
}
