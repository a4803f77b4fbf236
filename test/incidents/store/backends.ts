/**
 * The two backends the one store suite runs against, each giving a database of its own: a
 * temporary SQLite file, or a PostgreSQL schema created for the test and dropped after it.
 * PostgreSQL down is a failure that says so, never a skip (.ci/run starts it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientConfig, Client as PgClient } from 'pg';

const require = createRequire(import.meta.url);
const { Client } = require('pg') as { Client: new (c: ClientConfig) => PgClient };

export const PG_URL = process.env.PALISADE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDb {
  /** The string openStore takes. */
  spec: string;
  drop(): Promise<void>;
}

export interface TestBackend {
  name: 'sqlite' | 'postgres';
  create(): Promise<TestDb>;
}

let serial = 0;

async function pgAdmin<T>(fn: (c: PgClient) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${PG_URL} (${(err as Error).message}): start it (pg_ctlcluster 15 main start; .ci/run does) — the store suite runs on both backends`,
    );
  }
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export const BACKENDS: TestBackend[] = [
  {
    name: 'sqlite',
    async create() {
      const dir = mkdtempSync(join(tmpdir(), 'palisade-store-'));
      return { spec: join(dir, 'test.db'), drop: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'postgres',
    async create() {
      const schema = `palisade_t${process.pid}_${Date.now().toString(36)}_${serial++}`;
      await pgAdmin((c) => c.query(`CREATE SCHEMA "${schema}"`));
      return { spec: `${PG_URL}?schema=${schema}`, drop: () => pgAdmin((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)).then(() => {}) };
    },
  },
];
