/**
 * The monitor's HTTP inputs: an access log followed as it grows (`tail -F -n0`: rotation and
 * truncation safe, from its end — the monitor watches what happens from now on), a log on stdin,
 * and the edge's request stream (its admin API's `GET /api/requests`, NDJSON in the edge's log
 * format), reconnected with backoff when the edge restarts; and flow export on UDP.
 */
import { get as httpGet, type IncomingMessage } from 'node:http';
import { followAccessLog } from '../sources/accesslog/follow.js';
import { readLogStream } from '../sources/accesslog/stream.js';
import { formatListen, type ListenAddress } from '../sources/flow-listen/address.js';
import { FlowCollector } from '../sources/flow-listen/collector.js';
import type { FlowInput, HttpInput } from './monitor.js';

export function followedLog(path: string, format: string | undefined): HttpInput {
  return {
    name: path,
    async run(onRequest, signal) {
      const f = followAccessLog(path, onRequest, { fromEnd: true, signal, ...(format !== undefined && { format }) });
      const info = await f.done;
      return { lines: info.lines, records: info.records, malformed: info.malformed };
    },
  };
}

export function stdinLog(format: string | undefined): HttpInput {
  return {
    name: 'stdin',
    async run(onRequest, signal) {
      const stop = (): void => void process.stdin.destroy();
      signal.addEventListener('abort', stop, { once: true });
      try {
        const info = await readLogStream(process.stdin, 'stdin', onRequest, format !== undefined ? { format } : {});
        return { lines: info.lines, records: info.records, malformed: info.malformed };
      } finally {
        signal.removeEventListener('abort', stop);
      }
    },
  };
}

/**
 * The edge's request stream. `note` hears of connections lost and made again (the requests the
 * edge finished meanwhile are in its access log, not here: said in the note).
 */
export function edgeStream(url: string, token: string | null, note: (line: string) => void): HttpInput {
  const base = url.replace(/\/+$/, '');
  return {
    name: `${base}/api/requests`,
    async run(onRequest, signal) {
      const total = { lines: 0, records: 0, malformed: 0 };
      let backoff = 500;
      let connected = false;
      while (!signal.aborted) {
        let res: IncomingMessage;
        try {
          res = await open(`${base}/api/requests`, token, signal);
        } catch (e) {
          if (signal.aborted) break;
          if (connected || backoff === 500) note(`edge stream ${base}: ${(e as Error).message}; trying again`);
          connected = false;
          await sleep(backoff, signal);
          backoff = Math.min(backoff * 2, 10_000);
          continue;
        }
        if (res.statusCode !== 200) {
          res.resume();
          throw new Error(
            `edge stream ${base}/api/requests: the edge answered ${res.statusCode}${res.statusCode === 401 ? ' (give its token: --edge-token or PALISADE_ADMIN_TOKEN)' : ''}`,
          );
        }
        if (!connected && backoff > 500) note(`edge stream ${base}: connected again (requests finished meanwhile are only in the edge's access log)`);
        connected = true;
        backoff = 500;
        const stop = (): void => void res.destroy();
        signal.addEventListener('abort', stop, { once: true });
        try {
          const info = await readLogStream(res, `${base}/api/requests`, onRequest, { format: 'palisade' });
          total.lines += info.lines;
          total.records += info.records;
          total.malformed += info.malformed;
        } catch (e) {
          if (!signal.aborted) note(`edge stream ${base}: ${(e as Error).message}`);
        } finally {
          signal.removeEventListener('abort', stop);
        }
        if (!signal.aborted) {
          note(`edge stream ${base}: closed by the edge; reconnecting`);
          await sleep(backoff, signal);
          backoff = Math.min(backoff * 2, 10_000);
        }
      }
      return total;
    },
  };
}

function open(url: string, token: string | null, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal, timeout: 5000 }, (res) => {
      // connected: a quiet edge sends nothing for as long as it likes
      req.setTimeout(0);
      resolve(res);
    });
    req.once('error', reject);
    req.once('timeout', () => req.destroy(new Error('no answer in 5 s')));
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Flow export listeners (the collector `palisade collect` runs): each record and sFlow sample is
 * handed over as it is decoded. What was lost on the way (sequence gaps, socket drops) is
 * counted for the final line.
 */
export function flowListeners(listen: ListenAddress[]): FlowInput {
  return {
    name: listen.map((a) => `${a.kind} on ${formatListen(a.host, a.port)}`).join(', '),
    async run(onFlow, signal) {
      const c = new FlowCollector({ listen, onFlow });
      await c.start();
      const stop = (): void => void c.stop('signal');
      signal.addEventListener('abort', stop, { once: true });
      try {
        const final = await c.done;
        const seq = final.loss.sequence;
        return { records: final.records, lost: seq.records + seq.datagrams + seq.samples + (final.loss.socketDrops ?? 0) };
      } finally {
        signal.removeEventListener('abort', stop);
      }
    },
  };
}
