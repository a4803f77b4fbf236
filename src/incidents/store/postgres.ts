/**
 * PostgreSQL for the store (many machines share one database). A `schema` parameter in the URL
 * (`postgres://host/db?schema=palisade`) puts the tables in that schema, created when missing;
 * tests use it to get a database of their own.
 */
import { createRequire } from 'node:module';
import { Kysely, PostgresDialect } from 'kysely';
import type { Pool, PoolConfig } from 'pg';
import { PalisadeError } from '../../core/errors.js';
import type { Tables } from './tables.js';

const require = createRequire(import.meta.url);

export interface PostgresHandle {
  db: Kysely<Tables>;
  /** The URL without its password, for messages. */
  where: string;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** The URL checked and split into pg's config; a bad one is E_CONFIG. */
export function postgresConfig(url: string): { config: PoolConfig; schema: string | null; where: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PalisadeError('E_CONFIG', `storage: "${url}" is not a valid postgres:// URL`);
  }
  if (parsed.hostname === '' && !parsed.searchParams.has('host')) throw new PalisadeError('E_CONFIG', `storage: "${url}" names no host`);
  const schema = parsed.searchParams.get('schema');
  if (schema !== null && !SCHEMA_NAME.test(schema)) throw new PalisadeError('E_CONFIG', `storage: schema "${schema}" is not a plain SQL name`);
  parsed.searchParams.delete('schema');
  const where = `${parsed.protocol}//${parsed.username ? `${parsed.username}@` : ''}${parsed.host}${parsed.pathname}${schema ? ` (schema ${schema})` : ''}`;
  const config: PoolConfig = {
    connectionString: parsed.toString(),
    max: 4,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 10_000,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  };
  return { config, schema, where };
}

/** What a connection failure means to a person: unreachable is a missing dependency, a refusal is configuration. */
export function postgresError(err: unknown, where: string): PalisadeError {
  const e = err as { code?: string; message?: string };
  const msg = e?.message ?? String(err);
  if (e?.code === 'ECONNREFUSED' || e?.code === 'ENOTFOUND' || e?.code === 'EHOSTUNREACH' || e?.code === 'ETIMEDOUT' || /timeout/i.test(msg)) {
    return new PalisadeError('E_DEPENDENCY', `PostgreSQL at ${where} is not reachable (${e?.code ?? msg}): start it or fix the storage URL`);
  }
  if (e?.code === '28P01' || e?.code === '28000' || e?.code === '3D000' || e?.code === '42501') {
    return new PalisadeError('E_CONFIG', `PostgreSQL at ${where} refused: ${msg}`);
  }
  return new PalisadeError('E_DEPENDENCY', `PostgreSQL at ${where}: ${msg}`);
}

export async function openPostgres(url: string): Promise<PostgresHandle> {
  const { config, schema, where } = postgresConfig(url);
  const { Pool: PoolClass } = require('pg') as { Pool: new (c: PoolConfig) => Pool };
  const pool = new PoolClass(config);
  // An idle connection that breaks (server restart) is reported here; without a listener it
  // would crash the process. The next query gets a fresh connection.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    try {
      // Two processes creating it at once: the loser's duplicate error means it exists.
      if (schema)
        await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`).catch((err: { code?: string }) => {
          if (err?.code !== '23505' && err?.code !== '42P06') throw err;
        });
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end().catch(() => {});
    throw postgresError(err, where);
  }
  return { db: new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) }), where };
}
