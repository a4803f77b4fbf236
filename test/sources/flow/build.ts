/** Builders of NetFlow v5/v9, IPFIX and sFlow v5 datagrams for the synthetic tests. */

export class Bytes {
  private out: number[] = [];
  u8(x: number): this {
    this.out.push(x & 0xff);
    return this;
  }
  u16(x: number): this {
    return this.u8(x >>> 8).u8(x);
  }
  u32(x: number): this {
    return this.u16(Math.floor(x / 65536) & 0xffff).u16(x & 0xffff);
  }
  u64(x: number): this {
    return this.u32(Math.floor(x / 4294967296)).u32(x >>> 0);
  }
  ip4(s: string): this {
    for (const p of s.split('.')) this.u8(Number(p));
    return this;
  }
  bytes(b: ArrayLike<number>): this {
    for (let i = 0; i < b.length; i++) this.u8(b[i] as number);
    return this;
  }
  zeros(n: number): this {
    for (let i = 0; i < n; i++) this.u8(0);
    return this;
  }
  get length(): number {
    return this.out.length;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

/** [element id, length, PEN?] */
export type Spec = [number, number, number?];

export function ipfixTemplateSet(records: { id: number; fields: Spec[]; scope?: number }[], options = false): Uint8Array {
  const b = new Bytes();
  for (const r of records) {
    b.u16(r.id).u16(r.fields.length);
    if (options) b.u16(r.scope ?? 1);
    for (const [ie, len, pen] of r.fields) {
      if (pen !== undefined)
        b.u16(ie | 0x8000)
          .u16(len)
          .u32(pen);
      else b.u16(ie).u16(len);
    }
  }
  return set(options ? 3 : 2, b.done());
}

export function set(id: number, body: Uint8Array): Uint8Array {
  return new Bytes()
    .u16(id)
    .u16(body.length + 4)
    .bytes(body)
    .done();
}

export function ipfixMessage(domain: number, seq: number, sets: Uint8Array[], exportSecs = 1_714_550_400): Uint8Array {
  const len = 16 + sets.reduce((n, s) => n + s.length, 0);
  const b = new Bytes().u16(10).u16(len).u32(exportSecs).u32(seq).u32(domain);
  for (const s of sets) b.bytes(s);
  return b.done();
}

export function v9Packet(sourceId: number, seq: number, sets: Uint8Array[], unixSecs = 1_714_550_400, uptime = 100_000): Uint8Array {
  const b = new Bytes().u16(9).u16(sets.length).u32(uptime).u32(unixSecs).u32(seq).u32(sourceId);
  for (const s of sets) b.bytes(s);
  return b.done();
}

export function v9TemplateSet(id: number, fields: Spec[]): Uint8Array {
  const b = new Bytes().u16(id).u16(fields.length);
  for (const [t, l] of fields) b.u16(t).u16(l);
  return set(0, b.done());
}

export function v9OptionsTemplateSet(id: number, scope: Spec[], options: Spec[]): Uint8Array {
  const b = new Bytes()
    .u16(id)
    .u16(scope.length * 4)
    .u16(options.length * 4);
  for (const [t, l] of [...scope, ...options]) b.u16(t).u16(l);
  while ((b.length + 4) % 4 !== 0) b.u8(0);
  return set(1, b.done());
}

export interface V5Record {
  src: string;
  dst: string;
  packets: number;
  bytes: number;
  srcPort?: number;
  dstPort?: number;
  proto?: number;
  flags?: number;
  first?: number;
  last?: number;
}

export function v5Packet(seq: number, records: V5Record[], sampling = 0, uptime = 100_000, secs = 1_714_550_400, engine = 0): Uint8Array {
  const b = new Bytes().u16(5).u16(records.length).u32(uptime).u32(secs).u32(0).u32(seq).u16(engine).u16(sampling);
  for (const r of records) {
    b.ip4(r.src)
      .ip4(r.dst)
      .ip4('0.0.0.0')
      .u16(1)
      .u16(2)
      .u32(r.packets)
      .u32(r.bytes)
      .u32(r.first ?? 90_000)
      .u32(r.last ?? 95_000)
      .u16(r.srcPort ?? 0)
      .u16(r.dstPort ?? 0)
      .u8(0)
      .u8(r.flags ?? 0)
      .u8(r.proto ?? 6)
      .u8(0)
      .u16(64500)
      .u16(64501)
      .u8(24)
      .u8(24)
      .u16(0);
  }
  return b.done();
}

/** An sFlow v5 datagram from an IPv4 agent; samples are {format, body}. */
export function sflowDatagram(agent: string, subAgent: number, seq: number, uptime: number, samples: { format: number; body: Uint8Array }[]): Uint8Array {
  const b = new Bytes().u32(5).u32(1).ip4(agent).u32(subAgent).u32(seq).u32(uptime).u32(samples.length);
  for (const s of samples) b.u32(s.format).u32(s.body.length).bytes(s.body);
  return b.done();
}

export function sflowRecord(format: number, body: Uint8Array): Uint8Array {
  return new Bytes().u32(format).u32(body.length).bytes(body).done();
}

export function flowSample(seq: number, sourceId: number, rate: number, pool: number, drops: number, records: Uint8Array[]): Uint8Array {
  const b = new Bytes().u32(seq).u32(sourceId).u32(rate).u32(pool).u32(drops).u32(3).u32(4).u32(records.length);
  for (const r of records) b.bytes(r);
  return b.done();
}

/** Generic interface counters (counter record format 1). */
export function genericCounters(ifIndex: number, speed: number, inOctets: number, outOctets: number): Uint8Array {
  return new Bytes().u32(ifIndex).u32(6).u64(speed).u32(1).u32(3).u64(inOctets).u32(100).zeros(20).u64(outOctets).u32(50).zeros(20).done();
}

export function counterSample(seq: number, sourceId: number, records: Uint8Array[]): Uint8Array {
  const b = new Bytes().u32(seq).u32(sourceId).u32(records.length);
  for (const r of records) b.bytes(r);
  return b.done();
}
