/**
 * HTML to PDF through Debian's Chromium in headless mode (the print stylesheet applies). The page
 * is loaded from a private temporary directory with networking features off; Chromium gets its
 * own throw-away profile so it never touches the user's.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError } from '../core/errors.js';

export interface PdfOptions {
  /** Chromium binary; default $PALISADE_CHROMIUM, then chromium on PATH, then /usr/bin/chromium. */
  chromium?: string;
  timeoutMs?: number;
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The Chromium to use, or null when none is installed. */
export function findChromium(given?: string): string | null {
  const explicit = given ?? process.env.PALISADE_CHROMIUM;
  if (explicit) return executable(explicit) ? explicit : null;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const name of ['chromium', 'chromium-browser']) if (executable(join(dir, name))) return join(dir, name);
  }
  return executable('/usr/bin/chromium') ? '/usr/bin/chromium' : null;
}

export async function htmlToPdf(html: string, out: string, opts: PdfOptions = {}): Promise<void> {
  const bin = findChromium(opts.chromium);
  if (bin === null)
    throw new InputError(
      `PDF output needs Chromium, which is not installed${(opts.chromium ?? process.env.PALISADE_CHROMIUM) ? ` at ${opts.chromium ?? process.env.PALISADE_CHROMIUM}` : ''}. ` +
        'Install it (Debian: apt-get install chromium) or write .html or .md instead.',
      'E_DEPENDENCY',
    );
  const dir = mkdtempSync(join(tmpdir(), 'palisade-pdf-'));
  const target = resolve(out);
  try {
    const page = join(dir, 'report.html');
    writeFileSync(page, html);
    if (existsSync(target)) rmSync(target);
    const args = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-extensions',
      '--no-first-run',
      '--no-pdf-header-footer',
      `--user-data-dir=${join(dir, 'profile')}`,
      `--print-to-pdf=${target}`,
      pathToFileURL(page).href,
    ];
    const { code, stderr } = await run(bin, args, opts.timeoutMs ?? 120_000);
    let head = '';
    try {
      head = readFileSync(target).subarray(0, 5).toString('latin1');
    } catch {}
    if (head !== '%PDF-') {
      const why = stderr
        .split('\n')
        .filter((l) => l.trim() && !l.includes('[:'))
        .slice(-3)
        .join(' | ');
      throw new InputError(`Chromium (${bin}) did not produce a PDF (exit ${code})${why ? `: ${why}` : ''}`, 'E_DEPENDENCY');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(bin: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      if (stderr.length < 65536) stderr += s;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      fail(new InputError(`cannot run Chromium (${bin}): ${err.message}`, 'E_DEPENDENCY'));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stderr });
    });
  });
}
