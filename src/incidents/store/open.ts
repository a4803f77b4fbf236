/**
 * Opens the store from the one string the `--db` flag and the `storage:` key carry:
 *   FILE | sqlite:FILE | sqlite:///abs/FILE   SQLite (default ./palisade.db)
 *   postgres://… | postgresql://…            PostgreSQL (`?schema=NAME` for a schema of its own)
 * and brings the database to the code's schema version before handing it out.
 */
import { PalisadeError } from '../../core/errors.js';
import { migrate } from './migrations.js';
import { openPostgres, postgresError } from './postgres.js';
import { type Backend, SqlStore } from './sql-store.js';
import { openSqlite, sqliteError } from './sqlite.js';
import type { Store } from './store.js';

export const DEFAULT_DB = './palisade.db';

export type StoreSpec = { backend: 'sqlite'; file: string } | { backend: 'postgres'; url: string };

/** What the string names; E_CONFIG when it names nothing usable. */
export function parseStoreSpec(spec: string): StoreSpec {
  const s = spec.trim();
  if (s === '') throw new PalisadeError('E_CONFIG', 'storage: empty database string (a file path, sqlite:FILE or postgres://…)');
  if (/^postgres(ql)?:\/\//i.test(s)) return { backend: 'postgres', url: s };
  if (/^sqlite:/i.test(s)) {
    const file = s.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file === '') throw new PalisadeError('E_CONFIG', `storage: "${spec}" names no file`);
    return { backend: 'sqlite', file };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(s);
  if (scheme) throw new PalisadeError('E_CONFIG', `storage: "${scheme[1]}://" is not supported; use a file path, sqlite:FILE or postgres://…`);
  return { backend: 'sqlite', file: s };
}

export async function openStore(spec: string = DEFAULT_DB): Promise<Store> {
  const parsed = parseStoreSpec(spec);
  let backend: Backend;
  let where: string;
  if (parsed.backend === 'sqlite') {
    const h = openSqlite(parsed.file);
    where = `SQLite ${parsed.file}`;
    backend = { dialect: 'sqlite', db: h.db, lock: h.lock, mapError: (err) => sqliteError(err, parsed.file), close: () => h.db.destroy() };
  } else {
    const h = await openPostgres(parsed.url);
    where = `PostgreSQL ${h.where}`;
    backend = {
      dialect: 'postgres',
      db: h.db,
      lock: null,
      // A connection lost mid-query (server gone) is a dependency problem, not a crash.
      mapError: (err) => (err instanceof PalisadeError || isSqlState(err) ? err : postgresError(err, h.where)),
      close: () => h.db.destroy(),
    };
  }
  // SQLite: this process's other handles on the file wait while the migration holds the write lock.
  const release = backend.lock ? await backend.lock.acquire() : null;
  try {
    await migrate(backend.db, backend.dialect, where);
  } catch (err) {
    await backend.close().catch(() => {});
    throw backend.mapError(err);
  } finally {
    release?.();
  }
  return new SqlStore(backend);
}

/** An error PostgreSQL itself answered (a five-character SQLSTATE): a query problem, passed on as it is. */
function isSqlState(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}
