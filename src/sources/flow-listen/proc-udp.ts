/**
 * Socket drops as the kernel counts them: the `drops` column of /proc/net/udp and /proc/net/udp6
 * (datagrams that arrived while the socket's receive buffer was full, and never reached us). The
 * decoder's sequence gaps cannot see these when the exporter does not number its datagrams, nor
 * the last ones of a burst, so a collector reports both.
 *
 * A row is found by the socket's inode, which is exact even when another process binds the same
 * port (SO_REUSEPORT) : node:dgram gives no file descriptor, so the inode is the one of this
 * process's sockets (/proc/self/fd -> socket:[N]) that sits on our local port. Linux only; on other
 * systems (or without /proc) every function returns null and the caller says drops are unknown.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface UdpSocketRow {
  /** Local port of the row. */
  port: number;
  inode: number;
  /** Bytes queued in the receive buffer, not yet read (skb memory, so more than the payloads). */
  rxQueue: number;
  /** Datagrams dropped since the socket opened. */
  drops: number;
}

/** Parse the rows of one /proc/net/udp{,6} text. */
export function parseProcUdp(text: string): UdpSocketRow[] {
  const rows: UdpSocketRow[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = (lines[i] as string).trim().split(/\s+/);
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
    if (f.length < 13) continue;
    const local = f[1] as string;
    const colon = local.lastIndexOf(':');
    const queues = (f[4] as string).split(':');
    rows.push({
      port: Number.parseInt(local.slice(colon + 1), 16),
      inode: Number(f[9]),
      rxQueue: Number.parseInt(queues[1] ?? '0', 16),
      drops: Number(f[12]),
    });
  }
  return rows;
}

function readRows(family: 4 | 6): UdpSocketRow[] | null {
  try {
    return parseProcUdp(readFileSync(family === 6 ? '/proc/net/udp6' : '/proc/net/udp', 'utf8'));
  } catch {
    return null;
  }
}

/** Inodes of this process's sockets. */
function ownSocketInodes(): Set<number> | null {
  try {
    const out = new Set<number>();
    for (const fd of readdirSync('/proc/self/fd')) {
      let target: string;
      try {
        target = readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        continue; // closed meanwhile (the readdir's own descriptor)
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m) out.add(Number(m[1]));
    }
    return out;
  } catch {
    return null;
  }
}

/** The inode of this process's UDP socket on `port` in the given family's table, or null. */
export function ownSocketInode(family: 4 | 6, port: number): number | null {
  const rows = readRows(family);
  const mine = ownSocketInodes();
  if (rows === null || mine === null) return null;
  const hit = rows.find((r) => r.port === port && mine.has(r.inode));
  return hit === undefined ? null : hit.inode;
}

/** The row of the socket with this inode, or null when it is gone or /proc is not there. */
export function socketRow(family: 4 | 6, inode: number): UdpSocketRow | null {
  return readRows(family)?.find((r) => r.inode === inode) ?? null;
}

/** The rows on a local port (any process): for peers' sockets, whose inodes we do not hold. */
export function rowsOnPort(family: 4 | 6, port: number): UdpSocketRow[] {
  return readRows(family)?.filter((r) => r.port === port) ?? [];
}
