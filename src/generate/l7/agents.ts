/**
 * HTTP clients as a server sees them: the User-Agent, the protocol version, the order of the
 * header names for each kind of request, and the TLS fingerprint. Browsers send a different
 * header set for a page, a sub-resource and a form post (Sec-Fetch-*, Upgrade-Insecure-Requests);
 * tools send a short, fixed list. These differences are what a detector can separate on, so each
 * profile carries its own, and the JSON fragments are built once per profile (not per line).
 */

export type RequestKind = 'page' | 'asset' | 'xhr' | 'post';
const KINDS: RequestKind[] = ['page', 'asset', 'xhr', 'post'];

export interface Agent {
  ua: string;
  version: 'HTTP/1.1' | 'HTTP/2';
  /** Header names per request kind; `referer` and `cookie` are dropped when the request has none. */
  headers: Record<RequestKind, readonly string[]>;
  ja3: string;
  ja4: string;
  alpn: string;
}

/**
 * A profile with its fragments of both formats precomputed, so a line costs one concatenation of
 * a few parts: per kind × referer × cookie `"version":…,"user_agent":…,"headers":[…]`; the nginx
 * `HTTP/x" ` after the URI and `" "UA" rt=` after the referer; the TLS object per host.
 */
export interface Client extends Agent {
  readonly headerJson: readonly string[];
  readonly nginxVersion: string;
  readonly nginxUa: string;
  tlsJson(host: string): string;
}

function headerJson(names: readonly string[], referer: boolean, cookie: boolean): string {
  const kept = names.filter((n) => {
    const l = n.toLowerCase();
    return (l !== 'referer' || referer) && (l !== 'cookie' || cookie);
  });
  return `"headers":[${kept.map((n) => `{"name":"${n}"}`).join(',')}]`;
}

export function client(a: Agent): Client {
  const frags: string[] = [];
  const head = `"version":"${a.version}","user_agent":"${a.ua}",`;
  for (const k of KINDS) for (let f = 0; f < 4; f++) frags.push(head + headerJson(a.headers[k], (f & 2) !== 0, (f & 1) !== 0));
  const tls = new Map<string, string>();
  return {
    ...a,
    headerJson: frags,
    nginxVersion: `${a.version === 'HTTP/2' ? 'HTTP/2.0' : a.version}" `,
    nginxUa: `" "${a.ua}" rt=`,
    tlsJson(host: string): string {
      let t = tls.get(host);
      if (t === undefined) {
        t = `"tls":{"ja3":"${a.ja3}","ja4":"${a.ja4}","sni":"${host}","alpn":"${a.alpn}"},`;
        tls.set(host, t);
      }
      return t;
    },
  };
}

/** Index into `headerJson`. */
export function headerSlot(kind: RequestKind, referer: boolean, cookie: boolean): number {
  return KINDS.indexOf(kind) * 4 + (referer ? 2 : 0) + (cookie ? 1 : 0);
}

const CHROME_H = {
  page: [
    'sec-ch-ua',
    'sec-ch-ua-mobile',
    'sec-ch-ua-platform',
    'upgrade-insecure-requests',
    'user-agent',
    'accept',
    'sec-fetch-site',
    'sec-fetch-mode',
    'sec-fetch-user',
    'sec-fetch-dest',
    'referer',
    'accept-encoding',
    'accept-language',
    'cookie',
    'priority',
  ],
  asset: [
    'sec-ch-ua-platform',
    'user-agent',
    'sec-ch-ua',
    'sec-ch-ua-mobile',
    'accept',
    'sec-fetch-site',
    'sec-fetch-mode',
    'sec-fetch-dest',
    'referer',
    'accept-encoding',
    'accept-language',
    'cookie',
    'priority',
  ],
  xhr: [
    'sec-ch-ua-platform',
    'user-agent',
    'accept',
    'sec-ch-ua',
    'content-type',
    'sec-ch-ua-mobile',
    'sec-fetch-site',
    'sec-fetch-mode',
    'sec-fetch-dest',
    'referer',
    'accept-encoding',
    'accept-language',
    'cookie',
    'priority',
  ],
  post: [
    'content-length',
    'cache-control',
    'sec-ch-ua',
    'sec-ch-ua-mobile',
    'sec-ch-ua-platform',
    'origin',
    'content-type',
    'upgrade-insecure-requests',
    'user-agent',
    'accept',
    'sec-fetch-site',
    'sec-fetch-mode',
    'sec-fetch-user',
    'sec-fetch-dest',
    'referer',
    'accept-encoding',
    'accept-language',
    'cookie',
    'priority',
  ],
} as const;
const FIREFOX_H = {
  page: [
    'user-agent',
    'accept',
    'accept-language',
    'accept-encoding',
    'referer',
    'cookie',
    'upgrade-insecure-requests',
    'sec-fetch-dest',
    'sec-fetch-mode',
    'sec-fetch-site',
    'sec-fetch-user',
    'priority',
    'te',
  ],
  asset: ['user-agent', 'accept', 'accept-language', 'accept-encoding', 'referer', 'cookie', 'sec-fetch-dest', 'sec-fetch-mode', 'sec-fetch-site', 'priority', 'te'],
  xhr: ['user-agent', 'accept', 'accept-language', 'accept-encoding', 'referer', 'content-type', 'cookie', 'sec-fetch-dest', 'sec-fetch-mode', 'sec-fetch-site', 'priority', 'te'],
  post: [
    'user-agent',
    'accept',
    'accept-language',
    'accept-encoding',
    'content-type',
    'content-length',
    'origin',
    'referer',
    'cookie',
    'upgrade-insecure-requests',
    'sec-fetch-dest',
    'sec-fetch-mode',
    'sec-fetch-site',
    'sec-fetch-user',
    'priority',
    'te',
  ],
} as const;
const SAFARI_H = {
  page: ['accept', 'sec-fetch-site', 'cookie', 'sec-fetch-dest', 'accept-language', 'sec-fetch-mode', 'user-agent', 'referer', 'accept-encoding', 'priority'],
  asset: ['accept', 'sec-fetch-site', 'cookie', 'sec-fetch-dest', 'accept-language', 'sec-fetch-mode', 'user-agent', 'referer', 'accept-encoding', 'priority'],
  xhr: ['accept', 'content-type', 'sec-fetch-site', 'cookie', 'sec-fetch-dest', 'accept-language', 'sec-fetch-mode', 'user-agent', 'referer', 'accept-encoding', 'priority'],
  post: [
    'content-type',
    'origin',
    'accept',
    'sec-fetch-site',
    'cookie',
    'sec-fetch-dest',
    'accept-language',
    'sec-fetch-mode',
    'user-agent',
    'referer',
    'content-length',
    'accept-encoding',
    'priority',
  ],
} as const;

const CHROME_TLS = { ja3: 'a195b1c59bc7ea4b3a8dbc3e8a7f5d2e', ja4: 't13d1516h2_8daaf6152771_d8a2da3f94cd', alpn: 'h2' };
const FIREFOX_TLS = { ja3: 'b5001237acdf006056b409cc433726b0', ja4: 't13d1715h2_5b57614c22b0_5c2c66f702b0', alpn: 'h2' };
const SAFARI_TLS = { ja3: '773906b0efdefa24a7f2b8eb6985bf37', ja4: 't13d2014h2_a09f3c656075_14788d8d241b', alpn: 'h2' };

function browser(ua: string, h: Record<RequestKind, readonly string[]>, tls: typeof CHROME_TLS, version: 'HTTP/1.1' | 'HTTP/2' = 'HTTP/2'): Client {
  return client({ ua, version, headers: h, ...tls });
}

/** Real browsers, weighted roughly as a consumer site sees them. */
export const BROWSERS: ReadonlyArray<readonly [Client, number]> = [
  [browser('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36', CHROME_H, CHROME_TLS), 24],
  [browser('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36', CHROME_H, CHROME_TLS), 8],
  [browser('Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36', CHROME_H, CHROME_TLS), 20],
  [browser('Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1', SAFARI_H, SAFARI_TLS), 18],
  [browser('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Safari/605.1.15', SAFARI_H, SAFARI_TLS), 6],
  [browser('Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0', FIREFOX_H, FIREFOX_TLS), 6],
  [browser('Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0', FIREFOX_H, FIREFOX_TLS, 'HTTP/1.1'), 1],
  [browser('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 Edg/142.0.0.0', CHROME_H, CHROME_TLS), 7],
  [
    browser(
      'Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/28.0 Chrome/130.0.0.0 Mobile Safari/537.36',
      CHROME_H,
      CHROME_TLS,
    ),
    4,
  ],
  [browser('Mozilla/5.0 (iPad; CPU OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1', SAFARI_H, SAFARI_TLS), 3],
];

/** Cumulative weights, so a draw is one float and a short scan. */
const BROWSER_CUM = (() => {
  let s = 0;
  return BROWSERS.map(([, w]) => (s += w));
})();

export function pickBrowser(u: number): Client {
  const x = u * (BROWSER_CUM[BROWSER_CUM.length - 1] as number);
  for (let i = 0; i < BROWSER_CUM.length; i++) if (x < (BROWSER_CUM[i] as number)) return (BROWSERS[i] as readonly [Client, number])[0];
  return (BROWSERS[0] as readonly [Client, number])[0];
}

function tool(ua: string, names: readonly string[], tls: { ja3: string; ja4: string }, post: readonly string[] = [...names, 'Content-Type', 'Content-Length']): Client {
  return client({ ua, version: 'HTTP/1.1', headers: { page: names, asset: names, xhr: names, post }, ...tls, alpn: 'http/1.1' });
}

const GO_TLS = { ja3: '19e29534fd49dd27d09234e639c4057e', ja4: 't13d1312h2_f57a46bbacb6_e7c285222651' };
const PY_TLS = { ja3: 'bc6c386f480ee97b9d9e52d472b772d8', ja4: 't13d5911h1_a33745022dd6_1f22a2ca17c4' };

export const GOOGLEBOT = tool(
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  ['Host', 'Connection', 'Accept', 'From', 'User-Agent', 'Accept-Encoding'],
  {
    ja3: '6b4ee8b4e4b7b0d5a0a3d8e1b6d6c2f1',
    ja4: 't13d1516h1_8daaf6152771_e5627efa2ab1',
  },
);
export const GOOGLEBOT_MOBILE = tool(
  'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.7444.59 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  ['Host', 'Connection', 'Accept', 'From', 'User-Agent', 'Accept-Encoding'],
  { ja3: '6b4ee8b4e4b7b0d5a0a3d8e1b6d6c2f1', ja4: 't13d1516h1_8daaf6152771_e5627efa2ab1' },
);
export const BINGBOT = tool(
  'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
  ['Host', 'Accept', 'User-Agent', 'Accept-Encoding', 'Cache-Control', 'Connection'],
  {
    ja3: '3b5074b1b5d032e5620f69f9f700ff0e',
    ja4: 't13d1714h1_5b57614c22b0_7baf387fc6ff',
  },
);
export const APPLEBOT = tool(
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)',
  ['Host', 'Accept', 'Accept-Language', 'User-Agent', 'Accept-Encoding', 'Connection'],
  SAFARI_TLS,
);
export const YANDEXBOT = tool(
  'Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)',
  ['Host', 'Connection', 'Accept', 'Accept-Language', 'User-Agent', 'Accept-Encoding'],
  {
    ja3: '0ffee3ba8e615ad22535e7f771690a28',
    ja4: 't13d1011h1_61a7ad8aa9b6_3fcd1a44f3e3',
  },
);
export const UPTIMEROBOT = tool(
  'Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)',
  ['Host', 'User-Agent', 'Accept', 'Accept-Encoding', 'Connection'],
  GO_TLS,
);
export const PINGDOM = tool('Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)', ['Host', 'User-Agent', 'Accept', 'Connection'], PY_TLS);

/** The shop's own apps and partners on the API host. */
export const APPS: readonly Client[] = [
  tool('ExampleShop/5.12.0 (iPhone; iOS 18.6; Scale/3.00)', ['Host', 'Accept', 'Authorization', 'Accept-Language', 'Accept-Encoding', 'User-Agent', 'Connection'], SAFARI_TLS),
  tool('okhttp/4.12.0', ['Host', 'Authorization', 'Accept', 'Connection', 'Accept-Encoding', 'User-Agent'], {
    ja3: 'f79b6bad2ad0641e1921aef10262856b',
    ja4: 't13d1715h2_5b57614c22b0_93c746dc12af',
  }),
];
export const PARTNERS: readonly Client[] = [
  tool('python-requests/2.32.3', ['Host', 'User-Agent', 'Accept-Encoding', 'Accept', 'Connection', 'Authorization'], PY_TLS),
  tool('Go-http-client/2.0', ['Host', 'User-Agent', 'Authorization', 'Accept-Encoding'], GO_TLS),
];

/** What flood bots claim to be: old browser strings, sent with a script's header list. */
export const BOT_UAS: readonly string[] = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/96.0.4664.110 Safari/537.36',
  'Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/74.0.3729.169 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:91.0) Gecko/20100101 Firefox/91.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.2 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 14_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/14.0.3 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/88.0.4324.150 Safari/537.36',
];

export function botClient(ua: string, headerOrder: number): Client {
  const orders = [
    ['Host', 'User-Agent', 'Accept', 'Accept-Encoding'],
    ['Host', 'Connection', 'User-Agent', 'Accept', 'Accept-Language', 'Accept-Encoding'],
    ['User-Agent', 'Host', 'Accept', 'Cache-Control', 'Pragma'],
  ];
  return tool(ua, orders[headerOrder % orders.length] as string[], GO_TLS);
}

export const STUFFING_TOOLS: readonly Client[] = [
  // A requests.Session sends the form's cookie back, after its own defaults.
  tool('python-requests/2.31.0', ['Host', 'User-Agent', 'Accept-Encoding', 'Accept', 'Connection'], PY_TLS, [
    'Host',
    'User-Agent',
    'Accept-Encoding',
    'Accept',
    'Connection',
    'Cookie',
    'Content-Length',
    'Content-Type',
  ]),
  tool(
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
    ['Host', 'User-Agent', 'Accept', 'Accept-Language', 'Referer', 'Cookie'],
    GO_TLS,
    ['Host', 'User-Agent', 'Content-Type', 'Content-Length', 'Accept', 'Accept-Language', 'Origin', 'Referer', 'Cookie'],
  ),
];

export const SCANNER_UAS: readonly string[] = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.114 Safari/537.36',
  'Nuclei - Open-source project (github.com/projectdiscovery/nuclei)',
  'Mozilla/5.0 zgrab/0.x',
  'Mozilla/5.0 (l9scan/2.0.432313e2537393e2231303e2437393; +https://leakix.net)',
  'curl/7.88.1',
  'Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0',
];

export function scannerClient(ua: string): Client {
  return tool(ua, ['Host', 'User-Agent', 'Accept', 'Accept-Encoding', 'Connection'], GO_TLS);
}

/** slowloris.py: the request line, a User-Agent and Accept-language, then one `X-a:` per pause. */
export function slowlorisClient(ua: string): Client {
  return tool(ua, ['User-Agent', 'Accept-language', 'X-a'], PY_TLS);
}
