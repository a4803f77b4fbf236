/**
 * The rule editor: the server's ruleset listed; one rule's expression, action and enabled flag (or a
 * new rule) edited in a
 * text area validated as you type (POST /api/rules/validate, 250 ms after the last key), each
 * error marked at its span; the field catalogue to insert from; once the candidate is valid, its
 * what-if over the recorded traffic (operators: the API keeps that work from viewers) and the
 * rule's exports side by side; Save replaces the file under If-Match, and a 412 (someone saved
 * first) offers to reload. Deleting a rule (after a second click) goes through the same Save. A viewer gets everything but Save (and what-if, which the API refuses).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, canTriage, type Me } from '../api.js';
import { useDebounced } from '../debounce.js';
import { PageTitle } from '../ui.js';
import { ExportPanes } from './rules/ExportPanes.js';
import { ExprError } from './rules/ExprError.js';
import { FieldPicker } from './rules/FieldPicker.js';
import { withNewRule, withoutRule, withRule } from './rules/ruleset-text.js';
import type { Exports, RulesetProblem, RulesFile, Validation, WhatIf } from './rules/types.js';
import { WhatIfTable } from './rules/WhatIfTable.js';

const VALIDATE_AFTER_MS = 250;
const WHATIF_MINUTES = 5;
const ACTIONS = ['block', 'allow', 'log', 'challenge'] as const;

type Editing = { kind: 'rule'; id: string } | { kind: 'new' };

/** The action and enabled flag as the editor holds them for the rule being edited. */
interface Flags {
  action: string;
  enabled: boolean;
}

/** The candidate file text for what is being edited, or the reason there is none. */
function candidateOf(file: RulesFile, editing: Editing, expr: string, newId: string, flags: Flags): { text: string } | { error: string } {
  try {
    if (editing.kind === 'rule') {
      // only what changed is written: an untouched action or flag stays exactly as the file has it
      const was = file.rules.find((r) => r.id === editing.id);
      return {
        text: withRule(file.text, editing.id, {
          expression: expr,
          ...(was?.action !== flags.action && { action: flags.action }),
          ...(was?.enabled !== flags.enabled && { enabled: flags.enabled }),
        }),
      };
    }
    return { text: withNewRule(file.text, { id: newId.trim(), expression: expr, action: flags.action }) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

export function Rules({ me }: { me: Me }) {
  const operator = canTriage(me);
  const [file, setFile] = useState<RulesFile | null>(null);
  const [loadError, setLoadError] = useState('');
  const [editing, setEditing] = useState<Editing | null>(null);
  const [expr, setExpr] = useState('');
  const [newId, setNewId] = useState('new-rule');
  const [flags, setFlags] = useState<Flags>({ action: 'block', enabled: true });
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [validation, setValidation] = useState<Validation | null>(null);
  const [whatIf, setWhatIf] = useState<WhatIf | string | null>(null);
  const [exports, setExports] = useState<Exports | string | null>(null);
  const [message, setMessage] = useState('');
  const [conflict, setConflict] = useState(false);
  const [saving, setSaving] = useState(false);
  const box = useRef<HTMLTextAreaElement>(null);
  /** Answers to older candidates arrive late sometimes: only the newest one's are shown. */
  const asked = useRef(0);

  const load = async (): Promise<RulesFile | null> => {
    try {
      const f = await api<RulesFile>('GET', '/api/rules');
      setFile(f);
      setLoadError('');
      return f;
    } catch (err) {
      setLoadError((err as Error).message);
      return null;
    }
  };

  useEffect(() => {
    void load();
  }, []);

  const candidate = file !== null && editing !== null ? candidateOf(file, editing, expr, newId, flags) : null;
  const candidateText = candidate !== null && 'text' in candidate ? candidate.text : null;
  const ruleId = editing === null ? null : editing.kind === 'rule' ? editing.id : newId.trim();
  // the text and the rule settle together: a rule switched before the text caught up would
  // otherwise be asked of the previous rule's text (an export 400: "no rule"); the enabled flag is
  // in the text
  const key = candidateText === null || ruleId === null ? null : [ruleId, candidateText].join('\u0000');
  const settledKey = useDebounced(key, VALIDATE_AFTER_MS);
  const settledParts = settledKey === null ? null : settledKey.split('\u0000');
  const settled = settledParts === null ? null : settledParts.slice(1).join('\u0000');
  const settledRule = settledParts?.[0] ?? null;

  useEffect(() => {
    setValidation(null);
    setWhatIf(null);
    setExports(null);
    if (settled === null || settledRule === null) return;
    const mine = ++asked.current;
    const current = () => mine === asked.current;
    (async () => {
      let v: Validation;
      try {
        v = await api<Validation>('POST', '/api/rules/validate', { text: settled });
      } catch (err) {
        if (current()) setMessage((err as Error).message);
        return;
      }
      if (!current()) return;
      setValidation(v);
      if (!v.ok) return;
      const fail = (err: unknown) => (err instanceof ApiError && err.status === 409 ? err.message : `${(err as Error).message}`);
      // a disabled rule is exported as it would be once enabled, and the answer says disabled: true
      const exported = api<Exports>('POST', '/api/rules/export', { text: settled, rule: settledRule }).catch(fail);
      const tried = operator ? api<WhatIf>('POST', '/api/rules/whatif', { text: settled, minutes: WHATIF_MINUTES }).catch(fail) : null;
      const x = await exported;
      if (current()) setExports(x);
      if (tried !== null) {
        const w = await tried;
        if (current()) setWhatIf(w);
      }
    })();
  }, [settled, settledRule, operator]);

  const edit = (id: string) => {
    const rule = file?.rules.find((r) => r.id === id);
    if (rule === undefined) return;
    setEditing({ kind: 'rule', id });
    setExpr(rule.expression);
    setFlags({ action: rule.action, enabled: rule.enabled });
    setConfirmDelete(false);
    setMessage('');
    setConflict(false);
    requestAnimationFrame(() => box.current?.focus());
  };

  const addRule = () => {
    setEditing({ kind: 'new' });
    setExpr('');
    setFlags({ action: 'block', enabled: true });
    setConfirmDelete(false);
    setMessage('');
    setConflict(false);
    requestAnimationFrame(() => document.getElementById('new-rule-id')?.focus());
  };

  const insertField = (name: string) => {
    const el = box.current;
    const start = el?.selectionStart ?? expr.length;
    const end = el?.selectionEnd ?? expr.length;
    const next = `${expr.slice(0, start)}${name}${expr.slice(end)}`;
    setExpr(next);
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(start + name.length, start + name.length);
    });
  };

  /** Replaces the file with `text` under If-Match (Save and Delete alike). */
  const put = async (text: string | null, done: string) => {
    if (file === null || text === null) return;
    setSaving(true);
    setMessage('');
    try {
      await api('PUT', '/api/rules', { text }, { 'if-match': file.etag });
      await load();
      setMessage(done);
      setEditing(null);
      setConfirmDelete(false);
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) {
        setConflict(true);
        setMessage('Someone else saved the ruleset since you opened it. Reload it to apply your change on top of theirs (your expression stays in the box).');
      } else setMessage((err as Error).message);
    } finally {
      setSaving(false);
    }
  };

  const save = () => put(candidateText, `Saved rule ${ruleId}.`);

  const remove = () => {
    if (file === null || editing?.kind !== 'rule') return;
    try {
      void put(withoutRule(file.text, editing.id), `Deleted rule ${editing.id}.`);
    } catch (err) {
      setMessage((err as Error).message);
    }
  };

  const reload = async () => {
    const f = await load();
    if (f === null) return;
    setConflict(false);
    setMessage('Reloaded: check the change and save again.');
    // the rule may have gone in the newer file: then the change becomes a new rule of that id
    if (editing?.kind === 'rule' && !f.rules.some((r) => r.id === editing.id)) {
      setEditing({ kind: 'new' });
      setNewId(editing.id);
    }
  };

  if (file === null)
    return (
      <section>
        <PageTitle>Rules</PageTitle>
        {loadError !== '' ? (
          <p class="error" role="alert">
            {loadError}
          </p>
        ) : (
          <p>Loading…</p>
        )}
      </section>
    );

  const problems = validation?.problems ?? [];
  const mine = problems.filter((p): p is RulesetProblem & { span: { start: number; end: number } } => p.rule === ruleId && p.span !== undefined);
  const others = problems.filter((p) => !mine.includes(p as (typeof mine)[number]));
  const pending = candidateText !== null && (settledKey !== key || validation === null);
  const valid = validation?.ok === true && !pending;

  return (
    <section class="rules">
      <PageTitle>Rules</PageTitle>
      <p class="hint">
        Ruleset file <span class="mono">{file.file}</span>
        {file.problems.length > 0 && ` (has ${file.problems.length} problem(s) as saved)`}
      </p>
      <table class="list rules-table">
        <caption class="visually-hidden">The ruleset's rules, in order</caption>
        <thead>
          <tr>
            <th scope="col">Rule</th>
            <th scope="col">Action</th>
            <th scope="col">Expression</th>
            <th scope="col">Enabled</th>
            <th scope="col">
              <span class="visually-hidden">Edit</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {file.rules.length === 0 && (
            <tr>
              <td colSpan={5}>No rules yet.</td>
            </tr>
          )}
          {file.rules.map((r) => (
            <tr key={r.id} data-rule={r.id} class={editing?.kind === 'rule' && editing.id === r.id ? 'selected' : undefined}>
              <th scope="row" class="mono">
                {r.id}
              </th>
              <td>{r.action}</td>
              <td class="mono">{r.expression}</td>
              <td>{r.enabled ? 'yes' : 'no'}</td>
              <td>
                <button type="button" onClick={() => edit(r.id)} aria-label={`Edit rule ${r.id}`}>
                  Edit
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        <button type="button" onClick={addRule}>
          Add a rule
        </button>
      </p>

      {editing !== null && (
        <section class="editor" aria-labelledby="editor-title">
          <h2 id="editor-title">{editing.kind === 'rule' ? `Rule ${editing.id}` : 'New rule'}</h2>
          <div class="editor-grid">
            <div class="editor-main">
              <div class="new-rule">
                {editing.kind === 'new' && (
                  <div>
                    <label for="new-rule-id">Rule id</label>
                    <input id="new-rule-id" class="mono" value={newId} onInput={(e) => setNewId(e.currentTarget.value)} />
                  </div>
                )}
                <div>
                  <label for="rule-action">Action</label>
                  <select id="rule-action" value={flags.action} onChange={(e) => setFlags({ ...flags, action: e.currentTarget.value })}>
                    {/* a rule's own action (rate_limit, with its parameters) stays choosable though the editor does not offer it for new rules */}
                    {(ACTIONS as readonly string[]).includes(flags.action) ? null : <option value={flags.action}>{flags.action}</option>}
                    {ACTIONS.map((a) => (
                      <option key={a} value={a}>
                        {a}
                      </option>
                    ))}
                  </select>
                </div>
                {editing.kind === 'rule' && (
                  <div class="check">
                    <input id="rule-enabled" type="checkbox" checked={flags.enabled} onChange={(e) => setFlags({ ...flags, enabled: e.currentTarget.checked })} />
                    <label for="rule-enabled">Enabled</label>
                  </div>
                )}
              </div>
              <label for="rule-expression">Expression</label>
              <textarea
                id="rule-expression"
                ref={box}
                class="mono"
                rows={4}
                spellcheck={false}
                value={expr}
                aria-invalid={mine.length > 0 ? 'true' : undefined}
                aria-describedby="rule-expression-errors rule-expression-state"
                onInput={(e) => setExpr(e.currentTarget.value)}
              />
              <ExprError id="rule-expression-errors" expression={expr} problems={mine} />
              <p id="rule-expression-state" class="status" data-state={pending ? 'checking' : valid ? 'valid' : 'invalid'}>
                {candidate !== null && 'error' in candidate ? candidate.error : pending ? 'Checking…' : valid ? 'Valid.' : 'Not valid yet.'}
              </p>
              {others.length > 0 && (
                <ul class="problems">
                  {others.map((p, i) => (
                    <li key={i} class="error">{`line ${p.line}, column ${p.column}: ${p.message}`}</li>
                  ))}
                </ul>
              )}
              <div class="actions">
                {operator && (
                  <button type="button" onClick={() => void save()} disabled={!valid || saving}>
                    Save
                  </button>
                )}
                {conflict && (
                  <button type="button" onClick={() => void reload()}>
                    Reload the ruleset
                  </button>
                )}
                <button type="button" class="secondary" onClick={() => setEditing(null)}>
                  Cancel
                </button>
                {operator &&
                  editing.kind === 'rule' &&
                  (confirmDelete ? (
                    <>
                      <button type="button" class="danger" onClick={remove} disabled={saving}>
                        Delete rule {editing.id} for good
                      </button>
                      <button type="button" class="secondary" onClick={() => setConfirmDelete(false)}>
                        Keep it
                      </button>
                    </>
                  ) : (
                    <button type="button" class="secondary" onClick={() => setConfirmDelete(true)}>
                      Delete rule
                    </button>
                  ))}
              </div>
            </div>
            <FieldPicker onPick={insertField} />
          </div>

          <h2>What-if (last {WHATIF_MINUTES} minutes of recorded traffic)</h2>
          <div class="whatif-box" aria-live="polite">
            {!operator ? (
              <p class="hint">What-if runs for operators (it reads the recorded capture).</p>
            ) : !valid ? (
              <p class="hint">Shown once the ruleset is valid.</p>
            ) : whatIf === null ? (
              <p>Running…</p>
            ) : typeof whatIf === 'string' ? (
              <p class="hint">{whatIf}</p>
            ) : (
              <WhatIfTable report={whatIf} />
            )}
          </div>

          <h2>Exports</h2>
          {!valid ? (
            <p class="hint">Shown once the ruleset is valid.</p>
          ) : exports === null ? (
            <p>Exporting…</p>
          ) : typeof exports === 'string' ? (
            <p class="error">{exports}</p>
          ) : (
            <>
              {exports.disabled === true && (
                <p class="export-disabled" data-note="disabled">
                  Rule {settledRule} is disabled: nothing of it is loaded now. These are the exports it would load once enabled.
                </p>
              )}
              <ExportPanes exports={exports} />
            </>
          )}
        </section>
      )}
      <p class="status" role="status">
        {message}
      </p>
    </section>
  );
}
