/**
 * Writing values back as Rules-language text: what detection and compare print into the
 * expressions they suggest must parse back to the same bytes.
 */

/** A Bytes literal (spec §4) for a byte string (one char per byte): printable ASCII as is, `"` and `\` escaped, other bytes as \xHH. */
export function bytesLiteral(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c >= 0x20 && c < 0x7f) out += s[i];
    else out += `\\x${(c & 0xff).toString(16).padStart(2, '0')}`;
  }
  return `${out}"`;
}
