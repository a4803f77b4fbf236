/**
 * Request ids: a per-process random prefix and a counter, so ids are unique across workers and
 * restarts without a random draw per request. Shape: 12 hex digits, `-`, base-36 counter.
 */
import { randomBytes } from 'node:crypto';

/** The header carrying the id to the origin and on the edge's own answers. */
export const REQUEST_ID_HEADER = 'palisade-request-id';

/** What an id accepted from a trusted proxy may look like: short, printable, no separators that split logs. */
const ACCEPTABLE = /^[A-Za-z0-9._:-]{1,128}$/;

export class RequestIds {
  private readonly prefix = `${randomBytes(6).toString('hex')}-`;
  private n = 0;

  next(): string {
    this.n++;
    return this.prefix + this.n.toString(36);
  }

  /** An id a trusted proxy sent, when it is one we can pass on and log as is. */
  static acceptable(s: string | undefined): boolean {
    return s !== undefined && ACCEPTABLE.test(s);
  }
}
