/** Capture timestamps (seconds + nanoseconds) to ISO-8601 UTC text. */
export function isoTime(sec: number, nsec = 0): string {
  const d = new Date(sec * 1000);
  const base = d.toISOString().slice(0, 19);
  if (nsec === 0) return `${base}Z`;
  const frac = String(nsec).padStart(9, '0').replace(/0+$/, '');
  return `${base}.${frac.length <= 3 ? frac.padEnd(3, '0') : frac.length <= 6 ? frac.padEnd(6, '0') : frac.padEnd(9, '0')}Z`;
}
