/** DLT/LINKTYPE numbers to the names tcpdump and tshark print. */
const NAMES: Record<number, string> = {
  0: 'NULL',
  1: 'EN10MB',
  101: 'RAW',
  12: 'RAW',
  14: 'RAW',
  105: 'IEEE802_11',
  108: 'LOOP',
  113: 'LINUX_SLL',
  127: 'IEEE802_11_RADIOTAP',
  228: 'IPV4',
  229: 'IPV6',
  239: 'NFLOG',
  276: 'LINUX_SLL2',
};

export function linkTypeName(n: number): string {
  return NAMES[n] ?? `DLT_${n}`;
}
