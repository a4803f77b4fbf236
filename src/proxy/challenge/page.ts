/**
 * The interstitial page of the JavaScript challenge: one small HTML document with everything
 * inline (no script, style, font or image from anywhere), which needs no cookie to work — the
 * seed travels in the page and comes back in the form.
 *
 * Its script finds a nonce such that SHA-256(seed ‖ nonce), nonce in decimal, has the asked
 * number of leading zero bits (tokens.ts `solves` checks the same), then submits the form: a
 * plain POST the browser follows through the 303 to the page it first asked for, taking the
 * clearance cookie on the way. WebCrypto's `crypto.subtle.digest` does the hashing, many digests
 * in flight at once (one at a time, each await costs more than the hash). Browsers only offer
 * `crypto.subtle` to secure contexts (HTTPS, localhost), so a site served over plain HTTP gets
 * the same hash computed by the small SHA-256 below, in slices that leave the page responsive.
 *
 * Without JavaScript nothing happens: the form is never sent and a <noscript> line says why.
 */

/** The verification endpoint: the form's action; the gate answers it and never forwards it. */
export const VERIFY_PATH = '/.well-known/palisade/challenge';

/**
 * SHA-256 of a byte array, words out (8 signed 32-bit integers). Written for the page (ES5, no
 * dependencies); its constants are derived from the primes as the standard defines them rather
 * than listed. Exported as text so a test can run it against node:crypto.
 */
export const SHA256_JS = `function sha256(m){
var K=[],H=[],p=2,i,j;
for(;K.length<64;p++){for(j=2;j*j<=p;j++)if(p%j===0)break;if(j*j>p){if(H.length<8)H.push(Math.sqrt(p)%1*4294967296|0);K.push(Math.cbrt(p)%1*4294967296|0);}}
var l=m.length,b=[],W=[];
for(i=0;i<l;i++)b.push(m[i]);
b.push(128);while(b.length%64!==56)b.push(0);
var n=l*8;b.push(0,0,0,0,n>>>24&255,n>>>16&255,n>>>8&255,n&255);
function r(x,c){return x>>>c|x<<32-c;}
for(var o=0;o<b.length;o+=64){
for(i=0;i<16;i++)W[i]=b[o+4*i]<<24|b[o+4*i+1]<<16|b[o+4*i+2]<<8|b[o+4*i+3];
for(i=16;i<64;i++){var x=W[i-15],y=W[i-2];W[i]=W[i-16]+(r(x,7)^r(x,18)^x>>>3)+W[i-7]+(r(y,17)^r(y,19)^y>>>10)|0;}
var A=H[0],B=H[1],C=H[2],D=H[3],E=H[4],F=H[5],G=H[6],I=H[7];
for(i=0;i<64;i++){
var t=I+(r(E,6)^r(E,11)^r(E,25))+(E&F^~E&G)+K[i]+W[i]|0,u=(r(A,2)^r(A,13)^r(A,22))+(A&B^A&C^B&C)|0;
I=G;G=F;F=E;E=D+t|0;D=C;C=B;B=A;A=t+u|0;}
H[0]=H[0]+A|0;H[1]=H[1]+B|0;H[2]=H[2]+C|0;H[3]=H[3]+D|0;H[4]=H[4]+E|0;H[5]=H[5]+F|0;H[6]=H[6]+G|0;H[7]=H[7]+I|0;}
return H;}`;

/** The solver: reads the seed and difficulty from the form, fills in the nonce, submits. */
const SOLVER_JS = `(function(){
${SHA256_JS}
var f=document.getElementById('pc'),st=document.getElementById('ps');
var seed=f.elements.token.value,bits=+f.getAttribute('data-bits');
function zb(h){var n=0;for(var i=0;i<h.length;i++){if(h[i]===0){n+=8;continue;}return n+Math.clz32(h[i])-24;}return n;}
function zw(h){var n=0;for(var i=0;i<8;i++){if(h[i]===0){n+=32;continue;}return n+Math.clz32(h[i]);}return n;}
function ascii(s){var a=new Uint8Array(s.length);for(var i=0;i<s.length;i++)a[i]=s.charCodeAt(i);return a;}
function done(n){f.elements.nonce.value=String(n);st.textContent='Verified. Taking you to the page\\u2026';f.submit();}
var c=window.crypto&&window.crypto.subtle;
if(c&&c.digest){
var n=0,B=512;
(function batch(){var ps=[];for(var i=0;i<B;i++)ps.push(c.digest('SHA-256',ascii(seed+(n+i))));
Promise.all(ps).then(function(hs){for(var i=0;i<B;i++)if(zb(new Uint8Array(hs[i]))>=bits)return done(n+i);n+=B;batch();});})();
}else{
var k=0;
(function slice(){for(var e=k+4000;k<e;k++)if(zw(sha256(ascii(seed+k)))>=bits)return done(k);setTimeout(slice,0);})();
}})();`;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface PageInput {
  /** The signed seed (tokens.ts issueSeed). */
  seed: string;
  bits: number;
  /** Where to go once solved (already checked by safeReturnPath). */
  returnPath: string;
  requestId: string;
  /** The CSP nonce that lets the inline script run and nothing else. */
  cspNonce: string;
}

/** The page's HTML. */
export function challengePage(p: PageInput): string {
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">' +
    '<meta name="viewport" content="width=device-width,initial-scale=1"><title>Checking your browser</title>' +
    '<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;color:#222}small{color:#666}</style></head><body>' +
    '<h1>Checking your browser</h1>' +
    '<p>This site checks that visitors use a real browser before letting a request through: a challenge is required. It takes a moment and needs no action from you.</p>' +
    '<p id="ps">Working\u2026</p>' +
    '<noscript><p><strong>This check needs JavaScript, which is turned off in this browser. Turn it on and reload the page to continue.</strong></p></noscript>' +
    `<form id="pc" method="post" action="${VERIFY_PATH}" data-bits="${p.bits}">` +
    `<input type="hidden" name="token" value="${escapeHtml(p.seed)}"><input type="hidden" name="nonce" value="">` +
    `<input type="hidden" name="url" value="${escapeHtml(p.returnPath)}"></form>` +
    `<p><small>Request id: ${escapeHtml(p.requestId)}</small></p>` +
    `<script nonce="${escapeHtml(p.cspNonce)}">${SOLVER_JS}</script></body></html>\n`
  );
}

/** The Content-Security-Policy sent with the page: its own inline script and style, a form back to this site, nothing else. */
export function pagePolicy(cspNonce: string): string {
  return `default-src 'none'; script-src 'nonce-${cspNonce}'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`;
}
