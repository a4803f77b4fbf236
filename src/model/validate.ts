/**
 * The records of src/model checked against their JSON Schemas (schema/). One Ajv instance serves
 * the report (which reads analyses written elsewhere) and the tests (which check what every stage
 * emits), so the schema is the contract and there is no second, hand-written validator.
 *
 * The schemas carry an `expected` annotation on their shared definitions ("a number ≥ 0", "an
 * ISO-8601 UTC time", …) so a refusal names the bad field and what it should be, in words.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';

// Ajv is loaded on first use: every command imports this module through the report, and only
// `palisade report` and the tests validate anything (Ajv's code weighs some MB of heap).
const require = createRequire(import.meta.url);

export type SchemaName = 'analysis' | 'attack' | 'flow-record' | 'http-request' | 'alert' | 'incident';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

let validators: Record<SchemaName, ValidateFunction> | null = null;
let ajvInstance: import('ajv').Ajv | null = null;
/** The request bodies of `palisade serve` (schema/api.schema.json), by definition name. */
const requestValidators = new Map<string, ValidateFunction>();
/** `expected` of each shared definition, by name: a missing field says what it should have been. */
const definitionWords = new Map<string, string>();

/** Compiled on first use: `palisade analyze` never pays for it. */
function load(): Record<SchemaName, ValidateFunction> {
  if (validators !== null) return validators;
  const { Ajv } = require('ajv') as typeof import('ajv');
  const ajv = new Ajv({ allErrors: false, verbose: true });
  ajv.addKeyword({ keyword: 'expected', schemaType: 'string' });
  ajv.addFormat('iso-utc', { type: 'string', validate: (s: string) => ISO_UTC.test(s) && !Number.isNaN(Date.parse(s)) });
  const read = (name: string) => {
    const schema = JSON.parse(readFileSync(new URL(`../../schema/${name}.schema.json`, import.meta.url), 'utf8')) as { definitions?: Record<string, { expected?: string }> };
    for (const [def, body] of Object.entries(schema.definitions ?? {})) if (body.expected) definitionWords.set(def, body.expected);
    return schema;
  };
  ajvInstance = ajv;
  ajv.addSchema(read('attack'));
  ajv.addSchema(read('api'));
  const analysis = ajv.compile(read('analysis'));
  const attack = ajv.getSchema('https://palisade.dev/schema/attack.schema.json') as ValidateFunction;
  validators = {
    analysis,
    attack,
    'flow-record': ajv.compile(read('flow-record')),
    'http-request': ajv.compile(read('http-request')),
    alert: ajv.compile(read('alert')),
    incident: ajv.compile(read('incident')),
  };
  return validators;
}

/** `/attacks/0/start` → `attacks[0].start`, prefixed by the record's own name at the top. */
function fieldPath(root: string, pointer: string, child?: string): string {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (child !== undefined) parts.push(child);
  if (parts.length === 0) return root;
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

const TYPE_WORDS: Record<string, string> = {
  object: 'an object',
  array: 'an array',
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  null: 'null',
};

function expectedOf(e: ErrorObject): string {
  const annotated = (e.parentSchema as { expected?: string } | undefined)?.expected;
  if (annotated !== undefined) return annotated;
  switch (e.keyword) {
    case 'type': {
      const t = (e.params as { type: string | string[] }).type;
      return (Array.isArray(t) ? t : [t]).map((x) => TYPE_WORDS[x] ?? x).join(' or ');
    }
    case 'enum':
      return `one of ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'minimum':
      return `a number ≥ ${(e.params as { limit: number }).limit}`;
    case 'maximum':
      return `a number ≤ ${(e.params as { limit: number }).limit}`;
    default:
      return e.message ?? 'a valid value';
  }
}

/** The first way `doc` breaks the schema, as `path: expected …`, or null when it conforms. */
export function schemaProblem(doc: unknown, schema: SchemaName): string | null {
  return problemOf(load()[schema], doc, schema);
}

/** The definitions of schema/api.schema.json: the request bodies `palisade serve` takes. */
export function requestSchemas(): Record<string, object> {
  const text = readFileSync(new URL('../../schema/api.schema.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { definitions: Record<string, object> }).definitions;
}

/** The first way a request body breaks its definition in schema/api.schema.json (`body.field: expected …`), or null. */
export function requestProblem(doc: unknown, definition: string): string | null {
  load();
  let validate = requestValidators.get(definition);
  if (validate === undefined) {
    validate = (ajvInstance as import('ajv').Ajv).getSchema(`https://palisade.dev/schema/api.schema.json#/definitions/${definition}`);
    if (validate === undefined) throw new Error(`schema/api.schema.json has no definition ${definition}`);
    requestValidators.set(definition, validate);
  }
  return problemOf(validate, doc, 'body');
}

const responseValidators = new WeakMap<object, ValidateFunction>();

/**
 * The first way a response body breaks `schema` (a route's response schema: records by $ref to
 * schema/*.schema.json), or null: what the API tests hold every answer to.
 */
export function responseProblem(doc: unknown, schema: object): string | null {
  load();
  let validate = responseValidators.get(schema);
  if (validate === undefined) {
    validate = (ajvInstance as import('ajv').Ajv).compile(schema);
    responseValidators.set(schema, validate);
  }
  return problemOf(validate, doc, 'response');
}

function problemOf(validate: ValidateFunction, doc: unknown, schema: string): string | null {
  if (validate(doc)) return null;
  const e = (validate.errors ?? [])[0];
  if (e === undefined) return `${schema}: invalid`;
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    const sub = (e.parentSchema as { properties?: Record<string, { expected?: string; $ref?: string }> }).properties?.[missing];
    const words = sub?.expected ?? (sub?.$ref ? definitionWords.get(sub.$ref.slice(sub.$ref.lastIndexOf('/') + 1)) : undefined);
    return `${fieldPath(schema, e.instancePath, missing)}: missing${words ? `; expected ${words}` : ''}`;
  }
  if (e.keyword === 'additionalProperties') return `${fieldPath(schema, e.instancePath, (e.params as { additionalProperty: string }).additionalProperty)}: unexpected field`;
  return `${fieldPath(schema, e.instancePath)}: expected ${expectedOf(e)}`;
}

/** Every error, in Ajv's words (for tests that want to see them all). */
export function schemaErrors(doc: unknown, schema: SchemaName): string | null {
  const validate = load()[schema];
  if (validate(doc)) return null;
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
}
