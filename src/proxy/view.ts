/**
 * The request as the Rules language's HTTP scheme reads it (scheme/http.ts HttpRequestView),
 * built from node's parsed head without copying it: the header pairs and the header order are
 * made only when a phase asks for them; `header(name)` answers from node's flat list directly.
 */
import type { HttpRequestView } from '../scheme/http.js';

export class EdgeView implements HttpRequestView {
  method: string;
  target: string;
  host: string;
  version: string;
  clientIp: string;
  ssl: boolean;
  timestampMs: number;
  serverIp?: string;
  serverPort?: number;
  tlsVersion?: string;
  tlsCipher?: string;
  /** The connection's ClientHello fingerprints (client-hello.ts): rules read cf.bot_management.ja3_hash / ja4. */
  ja3?: string;
  ja4?: string;
  status?: number;
  body?: Uint8Array;
  bodySize?: number;
  bodyTruncated?: boolean;
  private pairs: Array<readonly [string, string]> | undefined;
  private order: string[] | undefined;

  constructor(
    /** node's rawHeaders: name, value, name, value ... (HTTP/2 pseudo-headers first). */
    private readonly raw: readonly string[],
    method: string,
    target: string,
    host: string,
    version: string,
    clientIp: string,
    ssl: boolean,
    timestampMs: number,
  ) {
    this.method = method;
    this.target = target;
    this.host = host;
    this.version = version;
    this.clientIp = clientIp;
    this.ssl = ssl;
    this.timestampMs = timestampMs;
  }

  get headers(): ReadonlyArray<readonly [string, string]> {
    if (this.pairs === undefined) {
      const raw = this.raw;
      const p: Array<readonly [string, string]> = [];
      for (let i = 0; i < raw.length; i += 2) if ((raw[i] as string).charCodeAt(0) !== 58) p.push([raw[i] as string, raw[i + 1] as string]);
      this.pairs = p;
    }
    return this.pairs;
  }

  /** Header names in order, lowercased (EdgeRequest.headerOrder). */
  get headerOrder(): readonly string[] {
    if (this.order === undefined) {
      const raw = this.raw;
      const o: string[] = [];
      for (let i = 0; i < raw.length; i += 2) if ((raw[i] as string).charCodeAt(0) !== 58) o.push((raw[i] as string).toLowerCase());
      this.order = o;
    }
    return this.order;
  }

  header(lower: string): string | undefined {
    const raw = this.raw;
    for (let i = 0; i < raw.length; i += 2) {
      const n = raw[i] as string;
      if (n.length === lower.length && n.toLowerCase() === lower) return raw[i + 1];
    }
    return undefined;
  }
}
