/**
 * The one error every exporter raises for what its target cannot express (a field, an operator,
 * a negation, a rate-limit key, too many rules): code E_UNSUPPORTED with the span of the
 * expression it concerns. Exporters catch it per rule and list it as a Problem, never widen the
 * rule to make it fit.
 */
import { PalisadeError } from '../core/errors.js';
import type { Span } from '../rules/packet-ir.js';

export class Unsupported extends PalisadeError {
  constructor(message: string, span: Span | null = null) {
    super('E_UNSUPPORTED', message, span ?? undefined);
    this.name = 'Unsupported';
  }
}
