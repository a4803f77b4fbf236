/**
 * The site the L7 scenarios serve: a shop at www.example.com (pages, their static assets, a login
 * form), its API at api.example.com (apps and partners) and a blog. Paths and sizes are drawn
 * from fixed lists, so every path is a plain ASCII string that needs no escaping in either log.
 */
import type { Rng } from '../prng.js';

export const WWW = 'www.example.com';
export const API = 'api.example.com';
export const BLOG = 'blog.example.com';

export const PRODUCTS: readonly string[] = (() => {
  const a = ['trail', 'city', 'summit', 'harbor', 'canyon', 'meadow', 'glacier', 'delta', 'ridge', 'coast', 'forest', 'prairie'];
  const b = ['jacket', 'backpack', 'boots', 'tent', 'lamp', 'bottle', 'hoodie', 'gloves', 'stove', 'sleeping-bag', 'cap', 'socks', 'shell', 'vest'];
  const out: string[] = [];
  for (const x of a) for (const y of b) out.push(`${x}-${y}`);
  return out;
})();

const CATEGORIES = ['men', 'women', 'kids', 'camping', 'hiking', 'climbing', 'travel', 'sale', 'new'];
const POSTS = [
  'packing-list-for-a-week',
  'how-to-choose-boots',
  'waterproofing-explained',
  'our-supply-chain',
  'winter-camping-101',
  'repair-not-replace',
  'trail-running-basics',
  'layering-guide',
];
const WORDS = ['jacket', 'boots', 'tent', 'rain', 'winter', 'kids', 'sale', 'gift', 'lamp', 'wool', 'gore-tex', 'size'];

/** Hashed bundle names, as a build pipeline emits them. */
export const COMMON_ASSETS: readonly string[] = [
  '/static/css/app.4f9c21d7.css',
  '/static/js/runtime.7b1e02a4.js',
  '/static/js/vendor.c83d9e11.js',
  '/static/js/app.19f0ab6e.js',
  '/static/img/logo.svg',
  '/static/fonts/inter-var.woff2',
  '/static/img/sprite.a02c.svg',
];

export interface Page {
  path: string;
  query: string;
  /** Page-specific images. */
  images: readonly string[];
  /** Typical HTML size in bytes (gzip'd body). */
  size: number;
}

/** A page a browsing visitor asks for: mostly products, some categories, search, home. */
export function randomPage(rng: Rng, out: Page): Page {
  const x = rng.float();
  if (x < 0.18) {
    out.path = '/';
    out.query = '';
    out.images = HOME_IMAGES;
    out.size = rng.int(38000, 46000);
  } else if (x < 0.62) {
    const p = rng.pick(PRODUCTS);
    out.path = `/products/${p}`;
    out.query = rng.chance(0.1) ? `color=${rng.pick(['black', 'blue', 'red', 'green'])}` : '';
    out.images = productImages(p);
    out.size = rng.int(24000, 36000);
  } else if (x < 0.82) {
    out.path = `/category/${rng.pick(CATEGORIES)}`;
    out.query = rng.chance(0.3) ? `page=${rng.int(2, 6)}` : '';
    out.images = CATEGORY_IMAGES;
    out.size = rng.int(30000, 52000);
  } else if (x < 0.92) {
    out.path = '/search';
    out.query = `q=${rng.pick(WORDS)}${rng.chance(0.3) ? `+${rng.pick(WORDS)}` : ''}`;
    out.images = CATEGORY_IMAGES;
    out.size = rng.int(20000, 48000);
  } else if (x < 0.96) {
    out.path = '/cart';
    out.query = '';
    out.images = NO_IMAGES;
    out.size = rng.int(9000, 14000);
  } else {
    out.path = rng.pick(['/about', '/contact', '/shipping', '/returns', '/stores']);
    out.query = '';
    out.images = NO_IMAGES;
    out.size = rng.int(8000, 16000);
  }
  return out;
}

const NO_IMAGES: readonly string[] = [];
const HOME_IMAGES: readonly string[] = ['/static/img/hero-autumn.webp', '/static/img/tile-1.webp', '/static/img/tile-2.webp', '/static/img/tile-3.webp'];
const CATEGORY_IMAGES: readonly string[] = ['/static/img/thumbs/grid-1.webp', '/static/img/thumbs/grid-2.webp', '/static/img/thumbs/grid-3.webp'];

const productImageCache = new Map<string, readonly string[]>();
export function productImages(p: string): readonly string[] {
  let a = productImageCache.get(p);
  if (a === undefined) {
    a = [`/static/img/products/${p}-1.webp`, `/static/img/products/${p}-2.webp`];
    productImageCache.set(p, a);
  }
  return a;
}

export function blogPost(rng: Rng): string {
  return `/${rng.pick(POSTS)}`;
}

/** Size of a static asset by its extension. */
export function assetSize(rng: Rng, path: string): number {
  if (path.endsWith('.js')) return rng.int(40000, 180000);
  if (path.endsWith('.css')) return rng.int(18000, 60000);
  if (path.endsWith('.woff2')) return 48212;
  if (path.endsWith('.svg')) return rng.int(1200, 9000);
  return rng.int(14000, 90000);
}

/** What scanners look for: secrets, admin panels, known-vulnerable endpoints. */
export const SENSITIVE: readonly string[] = [
  '/.env',
  '/.env.local',
  '/.env.production',
  '/.git/config',
  '/.git/HEAD',
  '/.git/index',
  '/.svn/entries',
  '/.hg/hgrc',
  '/.DS_Store',
  '/.aws/credentials',
  '/.ssh/id_rsa',
  '/.htaccess',
  '/.htpasswd',
  '/wp-login.php',
  '/wp-admin/',
  '/wp-admin/install.php',
  '/wp-config.php.bak',
  '/wp-content/debug.log',
  '/wp-includes/wlwmanifest.xml',
  '/xmlrpc.php',
  '/phpmyadmin/',
  '/pma/',
  '/phpinfo.php',
  '/info.php',
  '/config.php',
  '/config.json',
  '/config.yml',
  '/settings.py',
  '/backup.zip',
  '/backup.sql',
  '/db.sql',
  '/dump.sql',
  '/site.tar.gz',
  '/admin/',
  '/admin/login',
  '/administrator/',
  '/server-status',
  '/server-info',
  '/actuator/env',
  '/actuator/health',
  '/actuator/heapdump',
  '/api/swagger.json',
  '/swagger-ui.html',
  '/v2/api-docs',
  '/graphql',
  '/console/',
  '/manager/html',
  '/solr/admin/info/system',
  '/_ignition/health-check',
  '/telescope/requests',
  '/debug/default/view',
  '/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php',
  '/cgi-bin/luci/;stok=/locale',
  '/boaform/admin/formLogin',
  '/HNAP1/',
  '/owa/auth/logon.aspx',
  '/remote/fgt_lang',
  '/global-protect/login.esp',
  '/autodiscover/autodiscover.xml',
  '/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application',
  '/.well-known/security.txt',
  '/robots.txt',
  '/sitemap.xml',
  '/storage/logs/laravel.log',
  '/app/etc/local.xml',
  '/composer.json',
  '/package.json',
  '/docker-compose.yml',
  '/Dockerfile',
  '/id_rsa',
  '/.npmrc',
  '/.vscode/sftp.json',
  '/sftp-config.json',
  '/web.config',
  '/elmah.axd',
  '/trace.axd',
  '/jmx-console/',
  '/login.action',
  '/struts2-showcase/',
  '/containers/json',
  '/api/v1/pods',
  '/metrics',
];

/** The status this site answers a sensitive path with (nginx denies dotfiles; most are absent). */
export function sensitiveStatus(path: string): number {
  if (path === '/robots.txt' || path === '/sitemap.xml' || path === '/.well-known/security.txt') return 200;
  if (path.startsWith('/.')) return 403;
  if (path === '/admin/' || path === '/admin/login') return 302;
  if (path === '/graphql') return 405;
  return 404;
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
export function randomToken(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[rng.int(0, 35)];
  return s;
}

export function hex(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[rng.int(0, 15)];
  return s;
}
