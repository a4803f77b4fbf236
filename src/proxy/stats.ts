/** What the edge counts (per process: each worker has its own). `edge.stats()` returns a copy. */
export interface EdgeStats {
  connections: number;
  /** Connections refused: over the per-address limit, and bad PROXY protocol headers. */
  connLimited: number;
  proxyProtocolBad: number;
  requests: number;
  /** Answers by who gave them. */
  byOrigin: number;
  byPhase: number;
  byTransport: number;
  /** Request heads that did not arrive in time (slowloris): 408. */
  headerTimeouts: number;
  /** Bodies too slow or stalled: 408 or cut. */
  slowBodies: number;
  /** 400s from the parser or the head checks; 413; 431. */
  badRequests: number;
  tooLarge: number;
  headersTooLarge: number;
  originErrors: number;
  originTimeouts: number;
  gateErrors: number;
  clientAborts: number;
  upgrades: number;
  tlsErrors: number;
}

export function newStats(): EdgeStats {
  return {
    connections: 0,
    connLimited: 0,
    proxyProtocolBad: 0,
    requests: 0,
    byOrigin: 0,
    byPhase: 0,
    byTransport: 0,
    headerTimeouts: 0,
    slowBodies: 0,
    badRequests: 0,
    tooLarge: 0,
    headersTooLarge: 0,
    originErrors: 0,
    originTimeouts: 0,
    gateErrors: 0,
    clientAborts: 0,
    upgrades: 0,
    tlsErrors: 0,
  };
}
