/**
 * The fields a rule may test (GET /api/scheme/fields, the schemes' own catalogue), filterable by
 * name, type or description; choosing one inserts its name where the cursor is in the expression.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from '../../api.js';
import type { Field } from './types.js';

/** More than this many matches are not all drawn: the filter narrows them. */
const SHOWN = 60;

export function FieldPicker({ onPick }: { onPick: (name: string) => void }) {
  const [fields, setFields] = useState<Field[] | null>(null);
  const [error, setError] = useState('');
  const [filter, setFilter] = useState('');

  useEffect(() => {
    api<Field[]>('GET', '/api/scheme/fields')
      .then(setFields)
      .catch((err: unknown) => setError((err as Error).message));
  }, []);

  const matches = useMemo(() => {
    const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
    return (fields ?? []).filter((f) => words.every((w) => `${f.name} ${f.type} ${f.description} ${f.scheme}`.toLowerCase().includes(w)));
  }, [fields, filter]);

  return (
    <section class="field-picker" aria-labelledby="fields-title">
      <h3 id="fields-title">Fields</h3>
      <label for="field-filter">Filter fields</label>
      <input id="field-filter" type="search" value={filter} placeholder="e.g. tcp flags" onInput={(e) => setFilter(e.currentTarget.value)} />
      {error !== '' && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <p class="hint" role="status">
        {fields === null ? 'Loading…' : `${matches.length} of ${fields.length} fields${matches.length > SHOWN ? `, first ${SHOWN} shown` : ''}`}
      </p>
      <ul class="fields">
        {matches.slice(0, SHOWN).map((f) => (
          <li key={`${f.scheme}:${f.name}`}>
            <button type="button" class="field" data-field={f.name} onClick={() => onPick(f.name)}>
              <span class="visually-hidden">Insert </span>
              <span class="mono">{f.name}</span> <span class="type">{f.type}</span>
            </button>
            <span class="field-doc">
              {f.scheme}: {f.description}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
