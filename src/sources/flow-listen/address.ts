/**
 * Listener addresses as users write them: `:2055` (every address, IPv4 and IPv6), `127.0.0.1:2055`,
 * `[::1]:2055`, `[::]:2055`. Parsed once at start-up; a bad one is a UsageError naming the flag.
 * Host names are refused rather than resolved: a collector bound to whatever a name resolved to
 * today is a surprise tomorrow.
 */
import { UsageError } from '../../core/errors.js';
import { parseAddr } from '../../core/net/prefix.js';

/** The export protocol a listener is opened for: it names the flag and the conventional port. */
export type ListenKind = 'sflow' | 'netflow' | 'ipfix';

/** The port each protocol is sent to by convention (the decoder's flowPortKind knows them). */
export const CONVENTIONAL_PORT: Readonly<Record<ListenKind, number>> = { sflow: 6343, netflow: 2055, ipfix: 4739 };

export interface ListenAddress {
  kind: ListenKind;
  /** What the user wrote, for messages. */
  text: string;
  /** The address to bind: '::' when none was given (dual-stack: IPv4 arrives as ::ffff:a.b.c.d). */
  host: string;
  port: number;
  /** The socket family: 6 for an IPv6 literal and for the any-address default. */
  family: 4 | 6;
}

const BRACKETED = /^\[([^\]]*)\]:(\d+)$/;
const PLAIN = /^([^:]*):(\d+)$/;

/** Parse `[HOST]:PORT`, `HOST:PORT` or `:PORT` given to `--<kind>`. */
export function parseListenAddress(kind: ListenKind, text: string): ListenAddress {
  const flag = `--${kind}`;
  const m = BRACKETED.exec(text) ?? PLAIN.exec(text);
  if (m === null) {
    const hint = /^\d+$/.test(text) ? ` (did you mean :${text}?)` : text.split(':').length > 2 ? ' (an IPv6 address goes in brackets: [::1]:PORT)' : '';
    throw new UsageError(`${flag} takes HOST:PORT, [IPV6]:PORT or :PORT, not "${text}"${hint}`);
  }
  const hostText = m[1] as string;
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`${flag}: port must be from 1 to 65535, not "${m[2]}"`);
  if (hostText === '') return { kind, text, host: '::', port, family: 6 };
  const addr = parseAddr(hostText);
  if (addr === null) throw new UsageError(`${flag}: "${hostText}" is not an IP address (host names are not resolved; give 127.0.0.1, [::1], or :${port} for every address)`);
  return { kind, text, host: hostText, port, family: addr.family };
}

/** host:port as it would be typed back (brackets around IPv6). */
export function formatListen(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
