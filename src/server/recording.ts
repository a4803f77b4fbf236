/**
 * "Recorded traffic" for the rules API's what-if: one capture file the server was told about
 * (`palisade serve --record FILE`, or the demo's replay) and which stretch of it counts as the
 * last N minutes. A capture is read from its file each time (what-if is rare, a person asking).
 */
import { existsSync } from 'node:fs';
import { truthPath } from '../generate/generator.js';

export interface Recording {
  /** The capture (pcap or pcapng). */
  file: string;
  /** Its ground truth (palisade generate's .truth.json): per-packet attack labels; null when none. */
  truth: string | null;
  /** What is read, for the API's answer. */
  describe: string;
  /** The capture-time ranges (ms since the epoch, [from, to)) of the last `minutes`. */
  window(minutes: number): Array<[number, number]>;
}

/**
 * A capture written as traffic arrives (`tcpdump -w FILE`): the last N minutes are the records
 * stamped within the last N minutes of this machine's clock. Its labels, when a generated
 * capture's truth file sits beside it.
 */
export function fileRecording(file: string, now: () => number = Date.now): Recording {
  const truth = truthPath(file);
  return {
    file,
    truth: existsSync(truth) && truth !== file ? truth : null,
    describe: `${file}: the records stamped within the last N minutes of the server's clock`,
    window: (minutes) => [[now() - minutes * 60_000, now() + 1]],
  };
}
