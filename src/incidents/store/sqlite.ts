/**
 * SQLite for the store: one file in WAL mode (readers never wait for the writer). The driver is
 * better-sqlite3; where its compiled addon does not match the running Node (a node_modules built
 * by another Node version) and Node has `node:sqlite` (22.13+), that built-in serves instead,
 * behind the same small adapter. Kysely's SqliteDialect sees only the adapter.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { Kysely, SqliteDialect } from 'kysely';
import { PalisadeError } from '../../core/errors.js';
import type { Tables } from './tables.js';

const require = createRequire(import.meta.url);

/** The part of better-sqlite3's API that Kysely's SqliteDialect calls. */
interface Statement {
  readonly reader: boolean;
  all(params: readonly unknown[]): unknown[];
  run(params: readonly unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  iterate(params: readonly unknown[]): IterableIterator<unknown>;
}
interface Driver {
  prepare(text: string): Statement;
  exec(text: string): void;
  close(): void;
}

/** Prepared statements kept per connection: the store runs the same few dozen queries all day. */
const STATEMENT_CACHE = 256;

class CachingDriver {
  private readonly statements = new Map<string, Statement>();
  constructor(private readonly driver: Driver) {}
  prepare(text: string): Statement {
    let s = this.statements.get(text);
    if (s === undefined) {
      if (this.statements.size >= STATEMENT_CACHE) this.statements.clear();
      s = this.driver.prepare(text);
      this.statements.set(text, s);
    }
    return s;
  }
  close(): void {
    this.statements.clear();
    this.driver.close();
  }
}

type BetterSqlite = new (file: string, options?: { timeout?: number }) => Driver;
interface NodeSqliteStatement {
  columns?(): unknown[];
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  iterate(...params: unknown[]): IterableIterator<unknown>;
}
type NodeSqlite = new (file: string) => { prepare(text: string): NodeSqliteStatement; exec(text: string): void; close(): void };

/** A statement that hands back rows, told from its text (node:sqlite before columns()). */
const RETURNS_ROWS = /^\s*(select|pragma|with|values|explain)\b|\breturning\b/i;

let driverFactory: ((file: string) => Driver) | null = null;

/** better-sqlite3, or node:sqlite behind the same shape, or a clear E_DEPENDENCY. */
function factory(): (file: string) => Driver {
  if (driverFactory !== null) return driverFactory;
  let loadError: unknown;
  try {
    const Database = require('better-sqlite3') as BetterSqlite;
    // The addon loads lazily on the first open: try one in memory so a mismatch shows here.
    new Database(':memory:').close();
    driverFactory = (file) => new Database(file, { timeout: BUSY_MS });
    return driverFactory;
  } catch (err) {
    loadError = err;
  }
  try {
    const { DatabaseSync } = require('node:sqlite') as { DatabaseSync: NodeSqlite };
    driverFactory = (file) => {
      const db = new DatabaseSync(file);
      return {
        prepare(text) {
          const s = db.prepare(text);
          return {
            // columns() came in Node 22.16; before it, what the statement text says.
            reader: typeof s.columns === 'function' ? s.columns().length > 0 : RETURNS_ROWS.test(text),
            all: (p) => s.all(...p),
            run: (p) => s.run(...p),
            iterate: (p) => s.iterate(...p),
          };
        },
        exec: (text) => db.exec(text),
        close: () => db.close(),
      };
    };
    return driverFactory;
  } catch {
    throw new PalisadeError(
      'E_DEPENDENCY',
      `SQLite: better-sqlite3 does not load (${(loadError as Error)?.message?.split('\n')[0]}) and this Node has no node:sqlite; run \`npm rebuild better-sqlite3\` with this Node`,
    );
  }
}

/** How long a write waits for another process's write lock before failing (ms). */
const BUSY_MS = 10_000;

/** SQLite's result codes in an error, whichever driver raised it. */
function sqliteProblem(err: unknown): string | null {
  const e = err as { code?: string; errcode?: number; message?: string };
  if (e?.code === 'SQLITE_NOTADB' || e?.errcode === 26 || /not a database/.test(e?.message ?? '')) return 'is not a SQLite database';
  if (e?.code === 'SQLITE_CANTOPEN' || e?.errcode === 14 || /unable to open/.test(e?.message ?? '')) return 'cannot be opened';
  if (e?.code === 'SQLITE_CORRUPT' || e?.errcode === 11) return 'is corrupt';
  return null;
}

/**
 * In-process write lock per file. Two store handles on one file in one process would otherwise
 * interleave their transactions between awaits, and a synchronous driver waiting for the other
 * handle's lock would block the very event loop that must release it. Across processes, SQLite's
 * own lock (BEGIN IMMEDIATE with a busy timeout) does the job.
 */
export class FileLock {
  private tail: Promise<void> = Promise.resolve();
  acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((r) => (release = r));
    const ready = this.tail.then(() => release);
    this.tail = this.tail.then(() => next);
    return ready;
  }
}
const locks = new Map<string, FileLock>();

export interface SqliteHandle {
  db: Kysely<Tables>;
  lock: FileLock;
  file: string;
}

export function openSqlite(file: string): SqliteHandle {
  const memory = file === ':memory:';
  const path = memory ? file : resolve(file);
  if (!memory && !existsSync(dirname(path))) throw new PalisadeError('E_INPUT', `SQLite: ${file}: the folder ${dirname(path)} does not exist`);
  const make = factory();
  let raw: Driver;
  try {
    raw = make(path);
  } catch (err) {
    throw new PalisadeError('E_INPUT', `SQLite: ${file} ${sqliteProblem(err) ?? `cannot be opened (${(err as Error).message})`}`);
  }
  try {
    // The busy timeout first: switching a new database to WAL takes an exclusive lock, and a
    // second process opening it at the same moment must wait for it, not fail (database is locked).
    raw.prepare(`PRAGMA busy_timeout = ${BUSY_MS}`).all([]);
    // WAL: readers never block the writer. synchronous=NORMAL keeps every commit across a killed
    // process (the WAL is in the OS's cache); only a power cut may lose the last commits.
    raw.prepare('PRAGMA journal_mode = WAL').all([]);
    raw.prepare('PRAGMA synchronous = NORMAL').run([]);
  } catch (err) {
    raw.close();
    throw new PalisadeError('E_INPUT', `SQLite: ${file} ${sqliteProblem(err) ?? `cannot be used (${(err as Error).message})`}`);
  }
  const driver = new CachingDriver(raw);
  const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: driver }) });
  let lock = locks.get(path);
  if (lock === undefined || memory) {
    lock = new FileLock();
    if (!memory) locks.set(path, lock);
  }
  return { db, lock, file: path };
}

/** Maps a driver error met while running queries to a PalisadeError when it says something about the file. */
export function sqliteError(err: unknown, file: string): unknown {
  const e = err as { code?: string; errcode?: number };
  // Another process held the write lock for the whole busy timeout: a dependency that is not
  // answering, as an unreachable PostgreSQL is.
  if (e?.code === 'SQLITE_BUSY' || e?.errcode === 5) return new PalisadeError('E_DEPENDENCY', `SQLite: ${file} stayed locked by another process for ${BUSY_MS / 1000} s`);
  const problem = sqliteProblem(err);
  return problem === null ? err : new PalisadeError('E_INPUT', `SQLite: ${file} ${problem}`);
}
