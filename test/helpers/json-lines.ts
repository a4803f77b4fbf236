/** A command's --json output: one JSON document per non-empty line. */
export function jsonLines<T>(out: string): T[] {
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T);
}
