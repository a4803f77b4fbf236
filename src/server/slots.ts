/**
 * A bound on expensive work a request can start (a PDF printed by a Chromium process): at most
 * `size` run at once; a request beyond that is refused with 429 at once rather than queued, so a
 * client that asks for many cannot pile up browsers on the server.
 */
import { HttpError } from './http.js';

export class Slots {
  private busy = 0;

  constructor(
    readonly size: number,
    private readonly what: string,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.busy >= this.size) throw new HttpError(429, `${this.size} ${this.what} already in progress: try again in a few seconds`, {}, { 'retry-after': '5' });
    this.busy++;
    try {
      return await work();
    } finally {
      this.busy--;
    }
  }
}
