/**
 * WebSocket upgrades: once the gate passes the handshake, the edge opens a plain TCP (or TLS)
 * connection to the origin, writes the request head itself (the same forwarded headers as any
 * request, with Connection: upgrade and Upgrade restored) and pipes bytes both ways. The client's
 * bytes go on only after the origin answered 101: a refused handshake never turns the connection
 * into an unchecked pipe to the origin.
 */
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Exchange } from './exchange.js';
import type { Origin } from './upstream.js';

/** How long the origin may keep a refused handshake's connection open after its answer starts. */
const REFUSED_LINGER_MS = 2_000;
const HALF_CLOSE_LINGER_MS = 5_000;

export function pipeUpgrade(x: Exchange, origin: Origin, connectTimeoutMs: number, track: (s: Socket) => void): void {
  const client = x.req.socket as Socket;
  // Frames a client sends before the 101 wait in the socket until the pipe opens.
  client.pause();
  const head = x.upgradeHead ?? Buffer.alloc(0);
  const up: Socket = origin.tls
    ? tlsConnect({ host: origin.hostname, port: origin.port, servername: isIP(origin.hostname) === 0 ? origin.hostname : undefined, ALPNProtocols: ['http/1.1'] })
    : netConnect({ host: origin.hostname, port: origin.port });
  track(up);
  let connected = false;
  let heard = false;
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    up.destroy();
    client.destroy();
    x.upgradeEnded();
  };
  const timer = setTimeout(() => {
    if (!connected) {
      up.destroy();
      x.upstreamFailed(504, 'origin_connect_timeout');
    }
  }, connectTimeoutMs);
  timer.unref();
  up.once(origin.tls ? 'secureConnect' : 'connect', () => {
    connected = true;
    clearTimeout(timer);
    const hs = x.originHeaders();
    let s = `${x.view.method} ${x.view.target} HTTP/1.1\r\n`;
    for (let i = 0; i < hs.length; i += 2) s += `${hs[i]}: ${hs[i + 1]}\r\n`;
    s += `connection: upgrade\r\nupgrade: ${x.upgrade}\r\n\r\n`;
    up.write(Buffer.from(s, 'latin1'));
    if (head.length > 0) {
      up.write(head);
      x.bytesIn += head.length;
    }
  });
  up.on('error', () => {
    if (!connected) {
      clearTimeout(timer);
      ended = true;
      x.upstreamFailed(502, 'origin_unreachable');
    } else end();
  });
  up.on('close', end);
  client.on('error', end);
  client.on('close', end);
  // A half close is passed on; whichever side has not closed by HALF_CLOSE_LINGER_MS is cut.
  const halfClosed = (other: Socket) => () => {
    if (!other.destroyed) other.end();
    setTimeout(end, HALF_CLOSE_LINGER_MS).unref();
  };
  client.on('end', halfClosed(up));
  up.on('end', halfClosed(client));
  up.on('data', (d: Buffer) => {
    if (!heard) {
      heard = true;
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(d.subarray(0, 16).toString('latin1'));
      const status = m === null ? 502 : Number(m[1]);
      x.originHeard(status);
      if (status === 101) {
        client.on('data', (c: Buffer) => {
          x.bytesIn += c.length;
          if (!up.write(c)) {
            client.pause();
            up.once('drain', () => client.resume());
          }
        });
        client.resume();
      } else {
        up.setTimeout(REFUSED_LINGER_MS, end);
      }
    }
    x.bytesOut += d.length;
    if (!client.write(d)) {
      up.pause();
      client.once('drain', () => up.resume());
    }
  });
}
