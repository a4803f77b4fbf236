/**
 * SQL-injection detection in the manner of libinjection (our own implementation): the input
 * is read as SQL three times — as it stands, and as if it began inside a '...' or "..."
 * string literal (the usual injection points) — with a small SQL tokenizer. Tokens are
 * reduced to one-letter classes and folded into a short fingerprint, and the fingerprint is
 * judged by structural patterns that mean "this input closes a value and continues as SQL"
 * (a quote or number followed by a logic operator and an operand, UNION/SELECT after a value,
 * a statement after `;`, a known SQL function call, a comment that cuts off the rest...).
 *
 * Token classes: s string, 1 number, n name, v @variable, k keyword, E statement keyword,
 * U union, f SQL function (a known name followed by "("), & logic (and/or/xor/&&/||),
 * o operator, ( ) , ; punctuation, c comment, X anything else.
 *
 * Returns the fingerprint when the input looks like SQL injection, else null.
 */

const LOGIC = new Set(['and', 'or', 'xor', '&&', '||']);
const OP_WORDS = new Set(['like', 'rlike', 'regexp', 'is', 'in', 'between', 'div', 'mod', 'sounds', 'collate', 'escape', 'not']);
const STATEMENTS = new Set([
  'select',
  'insert',
  'update',
  'delete',
  'drop',
  'create',
  'alter',
  'truncate',
  'exec',
  'execute',
  'declare',
  'shutdown',
  'waitfor',
  'grant',
  'revoke',
  'handler',
  'call',
  'merge',
  'rename',
  'load',
]);
const KEYWORDS = new Set([
  'from',
  'where',
  'group',
  'order',
  'by',
  'having',
  'limit',
  'offset',
  'into',
  'values',
  'table',
  'as',
  'case',
  'when',
  'then',
  'else',
  'end',
  'delay',
  'procedure',
  'outfile',
  'dumpfile',
  'join',
  'all',
  'distinct',
  'top',
  'set',
  'exists',
  'declare',
  'begin',
  'information_schema',
  'sysobjects',
  'syscolumns',
  'asc',
  'desc',
  'time',
]);
const VALUES = new Set(['null', 'true', 'false', 'current_user', 'session_user', 'system_user', 'user']);
const FUNCTIONS = new Set(
  (
    'sleep benchmark pg_sleep char chr nchar concat concat_ws group_concat substring substr mid left right ascii ord hex unhex ' +
    'version database schema user current_user system_user session_user load_file extractvalue updatexml xmltype count cast ' +
    'convert if ifnull nullif isnull coalesce length len char_length lower upper md5 sha sha1 sha2 randomblob elt make_set ' +
    'floor rand exp name_const geometrycollection polygon multipoint multipolygon linestring multilinestring row json_keys ' +
    'gtid_subset instr locate position replace reverse space strcmp trim ltrim rtrim lpad rpad repeat conv bin oct ' +
    'utl_inaddr.get_host_address utl_http.request dbms_pipe.receive_message dbms_lock.sleep ctxsys.drithsx.sn ' +
    'sys.fn_varbintohexstr xp_cmdshell sp_executesql openrowset opendatasource exec waitfor tochar to_char to_number ' +
    'pg_read_file pg_ls_dir lo_import lo_export current_database current_schema inet_server_addr unicode quotename ' +
    'db_name user_name host_name suser_name is_srvrolemember has_dbaccess sysdate now uuid connection_id last_insert_id ' +
    'found_rows row_count import_from_file iif cdbl cint cstr ascii_str dump'
  ).split(/\s+/),
);
/** functions that on their own, as `name(...)`, mean an attack */
const DANGEROUS = new Set([
  'sleep',
  'benchmark',
  'pg_sleep',
  'load_file',
  'extractvalue',
  'updatexml',
  'xmltype',
  'dbms_pipe.receive_message',
  'dbms_lock.sleep',
  'utl_inaddr.get_host_address',
  'utl_http.request',
  'xp_cmdshell',
  'name_const',
  'randomblob',
  'pg_read_file',
  'openrowset',
]);

const MAX_TOKENS = 12;

interface Tok {
  t: string; // class
  v: string; // lower-case text for words/operators
}

function isWs(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 160;
}

function isWordStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 36 || c >= 128;
}

function isWord(c: number): boolean {
  return isWordStart(c) || (c >= 48 && c <= 57) || c === 46;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Tokenizes `s`; with `quote` the input is taken to start inside a string closed by `quote`. */
const POOL: Tok[] = Array.from({ length: MAX_TOKENS + 1 }, () => ({ t: '', v: '' }));
let ntok = 0;

function push(t: string, v: string): void {
  const k = POOL[ntok++];
  k.t = t;
  k.v = v;
}

function tokenize(s: string, quote: number): void {
  ntok = 0;
  let i = 0;
  const n = s.length;
  if (quote) {
    const e = endOfString(s, 0, quote);
    push('s', '');
    i = e;
  }
  while (i < n && ntok < MAX_TOKENS) {
    const c = s.charCodeAt(i);
    if (isWs(c)) {
      i++;
      continue;
    }
    // comments
    if (c === 47 && s.charCodeAt(i + 1) === 42) {
      if (s.charCodeAt(i + 2) === 33) {
        // MySQL /*! ... */ runs its content: skip the markers and any version number
        i += 3;
        while (i < n && isDigit(s.charCodeAt(i))) i++;
        continue;
      }
      const e = s.indexOf('*/', i + 2);
      push('c', '');
      i = e < 0 ? n : e + 2;
      continue;
    }
    if (c === 42 && s.charCodeAt(i + 1) === 47) {
      // end of a /*! block
      i += 2;
      continue;
    }
    if ((c === 45 && s.charCodeAt(i + 1) === 45) || c === 35) {
      const e = s.indexOf('\n', i);
      push('c', '');
      i = e < 0 ? n : e + 1;
      continue;
    }
    if (c === 39 || c === 34) {
      push('s', '');
      i = endOfString(s, i + 1, c);
      continue;
    }
    if (c === 96) {
      // `identifier`
      const e = s.indexOf('`', i + 1);
      push('n', '');
      i = e < 0 ? n : e + 1;
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(s.charCodeAt(i + 1)))) {
      let j = i;
      if (c === 48 && (s[i + 1] === 'x' || s[i + 1] === 'X' || s[i + 1] === 'b' || s[i + 1] === 'B')) {
        j += 2;
        while (j < n && /[0-9a-fA-F]/.test(s[j])) j++;
      } else {
        while (j < n && isDigit(s.charCodeAt(j))) j++;
        if (s.charCodeAt(j) === 46) {
          j++;
          while (j < n && isDigit(s.charCodeAt(j))) j++;
        }
        if ((s[j] === 'e' || s[j] === 'E') && (isDigit(s.charCodeAt(j + 1)) || ((s[j + 1] === '-' || s[j + 1] === '+') && isDigit(s.charCodeAt(j + 2))))) {
          j += 2;
          while (j < n && isDigit(s.charCodeAt(j))) j++;
        }
      }
      push('1', '');
      i = j;
      continue;
    }
    if (c === 64) {
      let j = i + 1;
      if (s.charCodeAt(j) === 64) j++;
      while (j < n && isWord(s.charCodeAt(j))) j++;
      push('v', '');
      i = j;
      continue;
    }
    if (isWordStart(c)) {
      let j = i + 1;
      while (j < n && isWord(s.charCodeAt(j))) j++;
      const w = s.slice(i, j).toLowerCase();
      i = j;
      let k = i;
      while (k < n && isWs(s.charCodeAt(k))) k++;
      const call = s.charCodeAt(k) === 40;
      push(classifyWord(w, call), w);
      continue;
    }
    // operators and punctuation
    const two = s.slice(i, i + 2);
    if (two === '&&' || two === '||') {
      push('&', two);
      i += 2;
      continue;
    }
    if (two === '<=' || two === '>=' || two === '<>' || two === '!=' || two === ':=' || two === '<<' || two === '>>') {
      push('o', two);
      i += 2;
      continue;
    }
    const ch = s[i];
    i++;
    if (ch === '(' || ch === ')' || ch === ',' || ch === ';') push(ch, ch);
    else if ('=<>+-*/%^|&~!:'.includes(ch)) push('o', ch);
    else if (ch === '.') continue;
    else push('X', ch);
  }
}

function classifyWord(w: string, call: boolean): string {
  if (LOGIC.has(w)) return '&';
  if (w === 'union') return 'U';
  if (call && FUNCTIONS.has(w)) return 'f';
  if (STATEMENTS.has(w)) return 'E';
  if (OP_WORDS.has(w)) return 'o';
  if (VALUES.has(w)) return '1';
  if (KEYWORDS.has(w)) return 'k';
  return 'n';
}

function endOfString(s: string, i: number, q: number): number {
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 92) {
      i += 2;
      continue;
    }
    if (c === q) {
      if (s.charCodeAt(i + 1) === q) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return n;
}

/** Folds the token list into a fingerprint: unary signs join numbers, adjacent strings merge. */
function fingerprint(): string {
  const toks = POOL;
  let fp = '';
  for (let i = 0; i < ntok; i++) {
    const t = toks[i];
    const prev = fp[fp.length - 1];
    if (
      t.t === 'o' &&
      (t.v === '-' || t.v === '+' || t.v === '~' || t.v === '!') &&
      (prev === undefined || prev === 'o' || prev === '(' || prev === '&' || prev === ',' || prev === 'k' || prev === 'E')
    ) {
      const nx = i + 1 < ntok ? toks[i + 1] : null;
      if (nx && (nx.t === '1' || nx.t === 'n' || nx.t === 'v' || nx.t === 's' || nx.t === 'f' || nx.t === '(')) continue;
    }
    if (t.t === 's' && prev === 's') continue;
    // comments inside the SQL are just separators (1/**/union); one at the end cuts the rest off
    if (t.t === 'c' && (prev === 'c' || i < ntok - 1)) continue;
    fp += t.t;
  }
  return fp;
}

const VALUE = '[1snvf(]';
// Judgement patterns over a fingerprint (see the module comment).
const AFTER_STRING = new RegExp(
  [
    `^s&${'[1sfv(]'}`, // ' or 1 / ' and '1 / ' or sleep( / ' || (
    `^s&no${VALUE}`, // ' and a=b
    '^s&nc', // ' or x --
    `^so${VALUE}`, // '+sleep( / '=' / ' | type
    '^sf', // " sleep(
    '^s\\)+[UE&;okc]', // ') union / '))and / ')waitfor
    '^s;[Ekn]', // '; drop
    '^sU', // ' union
    '^sE[n1o(fv*]', // ' select 1
    '^sc$', // admin'--
    '^s[kE]s', // ') waitfor delay '...
    '^sk[k1nsfv(]', // ' having 1=1 / ' group by 1 / ' order by 2
  ].join('|'),
);
const BARE = new RegExp(
  [
    `^[1v]&${VALUE}`, // 1 or 1=1 / 1 and sleep(
    `^n&[1sfv(]o`, // a or 1=1
    `^n&no${VALUE}`, // a or b=c
    '^[1nv)]U', // 1 union / ) union
    '^[1n];[Ek]', // 1; drop
    '^1\\)+[&U;]', // 1) or / 1) union
    '^UE', // union select
    '^E[o1v(f]', // select * / select 1 / select @@version / select(
    '^Ek1', // waitfor delay 0 / select all 1
    '^Eks', // waitfor delay '0:0:5'
    '^;E', // ; drop
  ].join('|'),
);

// Without a quote, every BARE pattern needs one of these characters or words; values without
// any (most benign ones) need no tokenizing.
const BARE_HINT =
  /[;(&|@]|\b(?:and|or|xor|union|select|insert|update|delete|drop|create|alter|truncate|exec|execute|declare|shutdown|waitfor|grant|revoke|handler|call|merge|rename|load)\b/i;

export function detectSqli(s: string): string | null {
  if (s.length === 0) return null;
  const sq = s.indexOf("'") >= 0;
  const dq = s.indexOf('"') >= 0;
  if (!sq && !dq && !BARE_HINT.test(s)) return null;
  // as it stands
  tokenize(s, 0);
  let fp = fingerprint();
  if (BARE.test(fp) || dangerousCall()) return fp;
  // a leading path separator or stray character before the SQL (/1 or 1=1, =1 union select)
  if ((fp[0] === 'o' || fp[0] === 'X') && BARE.test(fp.slice(1))) return fp;
  if (sq) {
    tokenize(s, 39);
    fp = fingerprint();
    if (AFTER_STRING.test(fp)) return fp;
  }
  if (dq) {
    tokenize(s, 34);
    fp = fingerprint();
    if (AFTER_STRING.test(fp)) return fp;
  }
  return null;
}

/** `sleep(5)`, `benchmark(...)`: a dangerous SQL function called at the start of the value. */
function dangerousCall(): boolean {
  const t = POOL;
  let i = 0;
  while (i < ntok && (t[i].t === '(' || t[i].t === 'E')) i++;
  return i < ntok && t[i].t === 'f' && DANGEROUS.has(t[i].v);
}
