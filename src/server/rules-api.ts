/**
 * The rule editor's API: the server's ruleset file (read, validated with every problem placed in
 * the text, replaced atomically under an If-Match ETag), what-if of a candidate ruleset over the
 * recorded traffic, its exports side by side, the IP lists it names, and the field catalogue for
 * the editor's field picker. Viewers read, validate and export (nothing changes); operators
 * replace rulesets and lists and run what-if (it reads a capture: work a viewer should not be
 * able to queue). Every replacement writes an audit row with who and what changed.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, relative } from 'node:path';
import { InputError } from '../core/errors.js';
import { exportRuleset, TARGETS } from '../export/index.js';
import type { Store } from '../incidents/store/store.js';
import type { Ruleset, RulesetProblem } from '../mitigate/ruleset.js';
import { type DetectedAttack, runWindowedWhatIf } from '../mitigate/whatif-window.js';
import { ALERT_STATES } from '../model/alert.js';
import { compile } from '../rules/compile.js';
import { httpScheme } from '../scheme/http.js';
import { packetScheme } from '../scheme/packet.js';
import type { Scheme } from '../scheme/types.js';
import { type Context, HttpError, type Route } from './http.js';
import { audit } from './route-kit.js';
import { checkListText, checkRuleset, etagOf, insideDir, type ListSource, listSources, readOrCreate, ruleChanges, serialized, writeAtomically } from './rules-file.js';
import type { Workspace } from './workspace.js';

/** The rules as the editor lists them. */
function rulesView(rs: Ruleset) {
  return rs.rules.map((r) => ({
    id: r.id,
    description: r.description,
    expression: r.expression,
    action: r.action,
    enabled: r.enabled,
    line: r.line,
    rate_limit: r.rateLimit,
  }));
}

/** 400 for a candidate ruleset with problems: the first in the message, all of them in `problems`. */
function problemsError(problems: RulesetProblem[]): HttpError {
  const p = problems[0] as RulesetProblem;
  return new HttpError(400, `text: line ${p.line}, column ${p.column}: ${p.message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`, {
    field: 'text',
    problems,
  });
}

function candidate(ws: Workspace, text: string): Ruleset {
  const c = checkRuleset(text, ws.rulesFile);
  if (c.ruleset === null) throw problemsError(c.problems);
  return c.ruleset;
}

/** The If-Match precondition of a replacement: 428 without one, 412 when the file has changed since. */
function precondition(ctx: Context, current: string): void {
  const sent = ctx.req.headers['if-match'];
  if (sent === undefined) throw new HttpError(428, 'send If-Match with the ETag you read (GET), so a change made since is not overwritten');
  const tags = sent.split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (!tags.includes('*') && !tags.includes(current))
    throw new HttpError(412, 'the file changed since you read it: read it again (GET) and reapply your change', { etag: current }, { etag: current });
}

function listOr404(ws: Workspace, name: string): ListSource {
  const l = listSources(readOrCreate(ws.rulesFile), ws.rulesFile).find((x) => x.name === name);
  if (l === undefined) throw new HttpError(404, `the ruleset has no list ${name}`);
  return l;
}

/** A file list's text ('' when the file is not there yet), or an inline list's entries. */
function listText(l: ListSource): string {
  if (l.path === null) return `${(l.entries ?? []).join('\n')}\n`;
  try {
    return readFileSync(l.path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  }
}

/** Slack around an attack's reported span: its first and last packets fall within a second of it. */
const SPAN_SLACK_MS = 2000;

/**
 * The attacks detection reported over the ranges (their alerts), as spans with a test: the
 * attack's signature, or, without one, its victim address.
 */
async function detectedAttacks(store: Store, ranges: ReadonlyArray<readonly [number, number]>): Promise<DetectedAttack[]> {
  if (ranges.length === 0) return [];
  const from = Math.min(...ranges.map((r) => r[0]));
  const to = Math.max(...ranges.map((r) => r[1]));
  const alerts = await store.listAlerts({ state: ALERT_STATES, since: new Date(Math.max(0, from)).toISOString(), limit: 1000 });
  const out: DetectedAttack[] = [];
  for (const a of alerts) {
    const start = Date.parse(a.attack.start) - SPAN_SLACK_MS;
    const end = Math.max(Date.parse(a.attack.end), Date.parse(a.last_seen)) + SPAN_SLACK_MS;
    if (!(start < to && end >= from)) continue;
    const expression = a.attack.signature?.expression ?? (a.victim.ip ? `ip.dst == ${a.victim.ip}` : null);
    if (expression === null) continue;
    try {
      out.push({ from: start, to: end, match: compile(expression, packetScheme) });
    } catch {
      // a signature of another scheme (an L7 attack's HTTP fields) says nothing about packets
    }
  }
  return out;
}

function fieldsOf<V>(scheme: Scheme<V>) {
  return [...scheme.fields.values()].map((f) => ({
    scheme: scheme.name,
    name: f.name,
    type: f.type,
    description: f.doc,
    ...(f.caps?.targets && { export_targets: f.caps.targets }),
  }));
}

export function rulesRoutes(store: Store, ws0: Workspace | null): Route[] {
  const workspace = (): Workspace => {
    if (ws0 === null) throw new HttpError(503, 'this server has no ruleset file (palisade serve sets one: --rules FILE, default rules.yaml beside the db)');
    return ws0;
  };
  return [
    {
      method: 'GET',
      path: '/api/rules',
      summary:
        "The server's ruleset file (palisade mitigate -r format): its text, ETag (also the ETag header), parsed rules, lists, and problems if it was edited into an invalid state by hand",
      role: 'viewer',
      handler: async () => {
        const ws = workspace();
        const text = readOrCreate(ws.rulesFile);
        const c = checkRuleset(text, ws.rulesFile);
        const etag = etagOf(text);
        return {
          json: {
            file: ws.rulesFile,
            etag,
            text,
            rules: c.ruleset ? rulesView(c.ruleset) : [],
            lists: listSources(text, ws.rulesFile).map((l) => ({ name: l.name, kind: l.kind, file: l.file })),
            problems: c.problems,
          },
          headers: { etag },
        };
      },
    },
    {
      method: 'POST',
      path: '/api/rules/validate',
      summary:
        "Check a candidate ruleset (not saved): every problem with line, column, start/end offsets into the text, and for a rule's expression the rule id and the Rules compiler's span in it; ok with the parsed rules when there is none",
      role: 'viewer',
      body: 'RulesetText',
      handler: async (ctx) => {
        const ws = workspace();
        const c = checkRuleset((ctx.body as { text: string }).text, ws.rulesFile);
        return { json: { ok: c.ruleset !== null, problems: c.problems, rules: c.ruleset ? rulesView(c.ruleset) : [] } };
      },
    },
    {
      method: 'PUT',
      path: '/api/rules',
      summary:
        'Replace the ruleset file atomically: validated first (400 with the problems), If-Match with the ETag read (428 without, 412 when it changed since), written to a temporary file, synced and renamed; audited with the rule ids added, removed and changed',
      role: 'operator',
      body: 'RulesetReplace',
      handler: async (ctx) => {
        const ws = workspace();
        const body = ctx.body as { text: string; comment?: string };
        const next = candidate(ws, body.text);
        const done = await serialized(() => {
          const current = readOrCreate(ws.rulesFile);
          precondition(ctx, etagOf(current));
          const before = checkRuleset(current, ws.rulesFile).ruleset;
          writeAtomically(ws.rulesFile, body.text);
          return { from: etagOf(current), to: etagOf(body.text), changes: ruleChanges(before, next) };
        });
        // the file is replaced: the audit row follows it (a failure here is a 500, logged, with the file already new)
        await store.appendAudit(audit(ctx, 'ruleset.replace', `ruleset:${basename(ws.rulesFile)}`, { ...done, ...(body.comment && { comment: body.comment }) }));
        return { json: { file: ws.rulesFile, etag: done.to, changes: done.changes, rules: rulesView(next) }, headers: { etag: done.to } };
      },
    },
    {
      method: 'POST',
      path: '/api/rules/whatif',
      summary:
        "What a candidate ruleset (not saved) would have done to the recorded traffic of the last N minutes: per rule the packets matched and decided, and how many attack and other packets each rule decided — attack by the capture's ground-truth labels when it has them (the demo's has), else by the attacks detected in the window (a packet of an alert's span that its signature matches); `labels` says which. Reads the capture the server was given (--record FILE: its records stamped in the last N minutes; --demo: the replay's rounds played in the last N minutes); 409 when there is none",
      role: 'operator',
      body: 'WhatIf',
      handler: async (ctx) => {
        const ws = workspace();
        const body = ctx.body as { text: string; minutes: number };
        const rs = candidate(ws, body.text);
        const rec = ws.recording;
        if (rec === null) throw new HttpError(409, 'no recorded traffic: start palisade serve with --record FILE (or --demo)');
        const ranges = rec.window(body.minutes);
        let report: Awaited<ReturnType<typeof runWindowedWhatIf>>;
        try {
          report = await runWindowedWhatIf(rec.file, rs, { ranges, truth: rec.truth, attacks: rec.truth === null ? await detectedAttacks(store, ranges) : null });
        } catch (e) {
          // the capture gone or unreadable is the recording's state, not a server fault
          if (e instanceof InputError) throw new HttpError(409, `the recorded traffic cannot be read: ${e.message}`);
          throw e;
        }
        return { json: { reads: rec.describe, minutes: body.minutes, ...report } };
      },
    },
    {
      method: 'POST',
      path: '/api/rules/export',
      summary:
        'A candidate ruleset, or one rule of it (a disabled one as it would be once enabled, marked disabled), exported to nftables, iptables/ipset, BGP Flowspec (ExaBGP) and Cloudflare side by side, each with notes on what it could not express (the rule, the span in its expression, why)',
      role: 'viewer',
      body: 'RulesetExport',
      handler: async (ctx) => {
        const ws = workspace();
        const body = ctx.body as { text: string; rule?: string };
        const full = candidate(ws, body.text);
        let rs = full;
        let disabled = false;
        if (body.rule !== undefined) {
          const one = full.rules.filter((r) => r.id === body.rule);
          if (one.length === 0) throw new HttpError(400, `rule: the ruleset has no rule "${body.rule}"`, { field: 'rule' });
          // the exporters leave a disabled rule out: show it as it would be once enabled, marked so
          disabled = one.some((r) => !r.enabled);
          rs = { ...full, rules: one.map((r) => (r.enabled ? r : { ...r, enabled: true })) };
        }
        const targets: Record<string, unknown> = {};
        for (const t of TARGETS) {
          const x = exportRuleset(rs, t);
          targets[t] = { text: x.text, notes: x.problems, ...(x.parts && { parts: x.parts }) };
        }
        return { json: { rules: rs.rules.map((r) => r.id), ...(disabled && { disabled: true }), targets } };
      },
    },
    {
      method: 'GET',
      path: '/api/lists',
      summary: 'The IP lists the ruleset names: kind, where their entries are (a file beside the ruleset, editable here; or inline entries, edited in the ruleset)',
      role: 'viewer',
      handler: async () => {
        const ws = workspace();
        const lists = listSources(readOrCreate(ws.rulesFile), ws.rulesFile);
        return { json: lists.map((l) => ({ name: l.name, kind: l.kind, file: l.file, format: l.format, editable: l.path !== null && insideDir(rulesDir(ws), l.path) })) };
      },
    },
    {
      method: 'GET',
      path: '/api/lists/{list}',
      summary: "One list's text (its file, or its inline entries one a line) with its ETag (also the ETag header)",
      role: 'viewer',
      handler: async (ctx) => {
        const ws = workspace();
        const l = listOr404(ws, ctx.params.list as string);
        if (l.path !== null && !insideDir(rulesDir(ws), l.path)) throw new HttpError(403, `list ${l.name}: its file is outside the ruleset's directory`);
        const text = listText(l);
        const etag = etagOf(text);
        return { json: { name: l.name, kind: l.kind, file: l.file, editable: l.path !== null, etag, text }, headers: { etag } };
      },
    },
    {
      method: 'PUT',
      path: '/api/lists/{list}',
      summary:
        "Replace a list's file atomically: checked in its format first (400 with the lines that would be skipped), If-Match with the ETag read (428/412), audited with the entry counts; an inline list (entries in the ruleset) is changed through PUT /api/rules",
      role: 'operator',
      body: 'ListText',
      handler: async (ctx) => {
        const ws = workspace();
        const l = listOr404(ws, ctx.params.list as string);
        if (l.path === null) throw new HttpError(409, `list ${l.name} is inline in the ruleset: change it with PUT /api/rules`);
        if (!insideDir(rulesDir(ws), l.path)) throw new HttpError(403, `list ${l.name}: its file is outside the ruleset's directory`);
        const text = (ctx.body as { text: string }).text;
        const checked = checkListText(text, l);
        const errors = checked.problems.filter((p) => p.severity === 'error');
        if (errors.length > 0) {
          const p = errors[0] as { line: number; message: string };
          throw new HttpError(400, `text: line ${p.line}: ${p.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`, {
            field: 'text',
            problems: checked.problems,
          });
        }
        const path = l.path;
        const done = await serialized(() => {
          const current = listText(l);
          precondition(ctx, etagOf(current));
          writeAtomically(path, text);
          return { from: etagOf(current), to: etagOf(text), entries: { before: checkListText(current, l).entries, after: checked.entries } };
        });
        await store.appendAudit(audit(ctx, 'list.replace', `list:${l.name}`, { file: relative(rulesDir(ws), path), ...done }));
        return { json: { name: l.name, etag: done.to, entries: checked.entries, warnings: checked.problems }, headers: { etag: done.to } };
      },
    },
    {
      method: 'GET',
      path: '/api/scheme/fields',
      summary:
        "The fields rules may test, from the packet and HTTP schemes: name, type, description, and for packet fields the export targets that can express a test on them (the rule editor's field picker)",
      role: 'viewer',
      query: [{ name: 'scheme', description: 'packet or http (default: both)', schema: { type: 'string', enum: ['packet', 'http'] } }],
      handler: async (ctx) => {
        const which = ctx.url.searchParams.get('scheme');
        if (which !== null && which !== 'packet' && which !== 'http') throw new HttpError(400, `scheme: expected packet or http, not "${which}"`, { field: 'scheme' });
        return { json: [...(which !== 'http' ? fieldsOf(packetScheme) : []), ...(which !== 'packet' ? fieldsOf(httpScheme) : [])] };
      },
    },
  ];
}

function rulesDir(ws: Workspace): string {
  return dirname(ws.rulesFile);
}
