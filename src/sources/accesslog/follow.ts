/**
 * followAccessLog: `tail -F` as a library function. Reads what a file has, then polls for more
 * every `pollMs` (bounded: one stat and reads of what was appended per tick, no watcher that
 * could miss events). Rotation-safe: when the path names a new file (inode changed, or the file
 * is gone and back) the old file is read to its end and the new one from its start; when the
 * file shrinks (copytruncate) reading restarts at 0. stop() ends it and resolves with the counts.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import type { AccessLogFileInfo } from './handler.js';
import { LineFeed } from './line-feed.js';
import type { LineParser } from './parsers.js';
import type { TextParseOptions } from './text-parser.js';
import type { HttpLogView } from './view.js';

export interface FollowOptions extends TextParseOptions {
  /** Format; detected on the first lines read when absent. */
  format?: string | LineParser;
  /** Poll interval in milliseconds (default 250). */
  pollMs?: number;
  /** Start at the end of the file as it is now, as `tail -F -n0` (default: from the start). */
  fromEnd?: boolean;
  signal?: AbortSignal;
}

export interface FollowInfo extends AccessLogFileInfo {
  /** Times the path was found to name a new file, and times the file shrank. */
  reopened: number;
  truncations: number;
}

export interface Follower {
  /** Stop polling; resolves with the counts once the last read is done. */
  stop(): Promise<FollowInfo>;
  /** Resolves when following ends (stop() or the signal). */
  readonly done: Promise<FollowInfo>;
}

const CHUNK = 256 * 1024;

export function followAccessLog(path: string, onRecord: (v: HttpLogView) => void, opts: FollowOptions = {}): Follower {
  const feed = new LineFeed(path, opts.format, onRecord, opts);
  const h = feed.handler;
  const splitter = feed.splitter;
  const pollMs = opts.pollMs ?? 250;
  let fd = -1;
  let ino = -1;
  let pos = 0;
  let reopened = 0;
  let truncations = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let finish: (i: FollowInfo) => void = () => {};
  const done = new Promise<FollowInfo>((ok) => {
    finish = ok;
  });
  const buf = Buffer.allocUnsafe(CHUNK);

  const open = (atEnd: boolean): void => {
    try {
      fd = openSync(path, 'r');
    } catch {
      fd = -1;
      return;
    }
    const st = fstatSync(fd);
    // A file opened after another one (whether the gap between them was seen or not) is a reopening.
    if (ino !== -1) reopened++;
    ino = st.ino;
    pos = atEnd ? st.size : 0;
  };

  const readAll = (): void => {
    if (fd < 0) return;
    for (;;) {
      const got = readSync(fd, buf, 0, CHUNK, pos);
      if (got === 0) break;
      pos += got;
      splitter.push(buf.subarray(0, got));
    }
    // Detection waits for lines: once some are in, choose and replay them.
    feed.settle();
  };

  const tick = (): void => {
    timer = null;
    if (stopped) return;
    if (fd < 0) open(false);
    readAll();
    let st: ReturnType<typeof statSync> | undefined;
    try {
      st = statSync(path);
    } catch {
      st = undefined;
    }
    if (fd >= 0 && (st === undefined || st.ino !== ino)) {
      // Rotated (renamed away, or removed): the old file's tail was read above; a last line
      // without its newline is complete now that nothing more will be written to that file.
      readAll();
      splitter.end();
      closeSync(fd);
      fd = -1;
      if (st !== undefined) {
        open(false);
        readAll();
      }
    } else if (fd >= 0 && st !== undefined && st.size < pos) {
      truncations++;
      splitter.end();
      pos = 0;
      readAll();
    }
    if (!stopped) timer = setTimeout(tick, pollMs);
  };

  const info = (): FollowInfo => ({ ...h.info, malformedLines: [...h.info.malformedLines], reopened, truncations });

  const stop = async (): Promise<FollowInfo> => {
    if (!stopped) {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      readAll();
      splitter.end();
      if (feed.held > 0) readAll();
      if (fd >= 0) closeSync(fd);
      fd = -1;
      finish(info());
    }
    return done;
  };

  opts.signal?.addEventListener('abort', () => void stop(), { once: true });
  open(opts.fromEnd === true);
  tick();
  return { stop, done };
}
