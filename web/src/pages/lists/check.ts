/**
 * A light check of a list as typed, before the server's own (which knows every format): in the
 * line formats (plain, FireHOL, Spamhaus) each line, its comment removed, must look like an IPv4
 * or IPv6 address or prefix. It only catches typing slips early; the server may still warn
 * (host bits set) or refuse. CSV and JSON lists are left to the server.
 */
export interface LineProblem {
  line: number;
  text: string;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}(\/(3[0-2]|[12]?\d))?$/;
// loose on purpose: hex groups and colons (one "::" at most), an optional dotted tail and prefix
const IPV6 = /^(?=.*:)[0-9a-fA-F:]{2,39}(:\d{1,3}(\.\d{1,3}){3})?(\/(12[0-8]|1[01]\d|\d?\d))?$/;

export function looksLikeAddress(token: string): boolean {
  if (IPV4.test(token)) return true;
  return IPV6.test(token) && (token.match(/::/g) ?? []).length <= 1;
}

export function checkLines(text: string, format: string | null): LineProblem[] {
  if (format === 'csv' || format === 'json') return [];
  const out: LineProblem[] = [];
  text.split('\n').forEach((raw, i) => {
    const cut = raw.replace(/\r$/, '').split(format === 'spamhaus' ? ';' : '#')[0] as string;
    const token = cut.trim().split(/\s+/)[0] ?? '';
    if (token !== '' && !looksLikeAddress(token)) out.push({ line: i + 1, text: token });
  });
  return out;
}
