/**
 * A client of the cluster tests' edge proxies: requests from a loopback address of their own
 * (Linux answers on all of 127/8, so each address is a client of its own), bounded in time, and
 * polling until an answer says a decision took hold.
 */
import { Agent as HttpAgent, get as httpGet } from 'node:http';

/** Keep-alive connections, one pool per client address (node:http binds localAddress; undici's connector does not). */
export const agent = new HttpAgent({ keepAlive: true, maxSockets: 4 });

/** A request from a loopback address of its own (Linux answers on all of 127/8), bounded in time. */
export function get(base: string, path: string, ip: string, fresh = false): Promise<{ status: number; mitigated: string | undefined }> {
  return new Promise((resolve, reject) => {
    // fresh: a new connection each time (with --workers, the primary hands connections round robin).
    const req = httpGet(`${base}${path}`, { agent: fresh ? false : agent, localAddress: ip, timeout: 5000 }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode ?? 0, mitigated: res.headers['palisade-mitigated'] as string | undefined }));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`${base}${path} from ${ip}: no answer in 5 s`)));
    req.once('error', reject);
  });
}

/** Polls `base` every 20 ms until `done` holds; the milliseconds from `t0` when it did. */
export async function pollUntil(base: string, ip: string, done: (r: { status: number; mitigated: string | undefined }) => boolean, t0: number, limitMs = 5000): Promise<number> {
  for (;;) {
    const r = await get(base, '/', ip);
    const t = performance.now() - t0;
    if (done(r)) return t;
    if (t > limitMs) return Number.POSITIVE_INFINITY;
    await new Promise((res) => setTimeout(res, 20));
  }
}
