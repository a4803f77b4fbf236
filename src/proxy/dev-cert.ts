/**
 * `--dev-cert`: a self-signed certificate for localhost and 127.0.0.1 made with the openssl CLI,
 * kept in the state directory and reused until it is within a day of expiring. For trying the
 * edge over TLS and HTTP/2 on one's own machine, never for serving others.
 *
 * Where: $PALISADE_STATE_DIR/dev-cert, else $XDG_STATE_HOME/palisade/dev-cert, else
 * ~/.local/state/palisade/dev-cert (cert.pem and key.pem, the key readable by its owner only).
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';

export interface DevCert {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
  /** Made now, rather than found from an earlier run. */
  created: boolean;
}

export function devCertDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PALISADE_STATE_DIR) return join(env.PALISADE_STATE_DIR, 'dev-cert');
  const state = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(state, 'palisade', 'dev-cert');
}

const DAY_MS = 86_400_000;

function usable(certFile: string, keyFile: string, nowMs: number): boolean {
  if (!existsSync(certFile) || !existsSync(keyFile)) return false;
  try {
    const c = new X509Certificate(readFileSync(certFile));
    return Date.parse(c.validTo) - nowMs > DAY_MS;
  } catch {
    return false;
  }
}

export function ensureDevCert(dir = devCertDir(), nowMs = Date.now()): DevCert {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  let created = false;
  if (!usable(certFile, keyFile, nowMs)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-days',
          '30',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
          '-keyout',
          keyFile,
          '-out',
          certFile,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
      if (err.code === 'ENOENT') throw new InputError('--dev-cert needs the openssl command (Debian package openssl)', 'E_DEPENDENCY');
      throw new InputError(`--dev-cert: openssl failed: ${err.stderr?.toString().trim() ?? err.message}`, 'E_DEPENDENCY');
    }
    chmodSync(keyFile, 0o600);
    created = true;
  }
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile, keyFile, created };
}
