/** Header look-ups on a request view (scheme/http.ts headerOf), under the name the phases import. */
export { headerOf } from '../../scheme/http.js';
