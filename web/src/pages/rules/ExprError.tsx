/**
 * An expression's errors shown where they are: the expression's line with the span marked and a
 * caret line under it (monospace), then the message. The container is what the text area's
 * aria-describedby names, and it is a polite live region, so a screen reader reads the new error
 * once typing pauses, without stealing focus.
 */
import { caretView } from './caret.js';
import type { RulesetProblem } from './types.js';

/** The compiler's message without the server's "(at N in "…")" suffix: the mark shows where. */
function messageOf(p: RulesetProblem): string {
  return p.message.replace(/ \(at \d+ in "[\s\S]*"\)$/, '');
}

export function ExprError({ id, expression, problems }: { id: string; expression: string; problems: readonly RulesetProblem[] }) {
  return (
    <div id={id} class="expr-errors" aria-live="polite">
      {problems.map((p, i) => {
        if (p.span === undefined) return <p key={i} class="error">{`line ${p.line}, column ${p.column}: ${p.message}`}</p>;
        const v = caretView(expression, p.span);
        return (
          <div key={i} class="expr-error" data-start={p.span.start} data-end={p.span.end}>
            <pre class="caret-view" aria-hidden="true">
              {v.before}
              <mark>{v.marked}</mark>
              {v.after}
              {'\n'}
              <span class="caret">{v.caret}</span>
            </pre>
            <p class="error">
              <span class="visually-hidden">{`At "${v.marked.trim()}", `}</span>
              {`line ${v.line}, column ${v.column}: ${messageOf(p)}`}
            </p>
          </div>
        );
      })}
    </div>
  );
}
