/**
 * The OpenAPI 3.1 description, written from the route table and the request schemas
 * (schema/api.schema.json), so it cannot list a route the server does not serve or miss one it
 * does. Response bodies point at the record schemas by their $id (schema/alert.schema.json, …).
 */
import { requestSchemas } from '../model/validate.js';
import type { Route } from './http.js';

/** `#/definitions/X` (draft-07) → `#/components/schemas/X`; the `expected` annotation becomes the description. */
function componentOf(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(componentOf);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === '$ref' && typeof v === 'string') out.$ref = v.replace('#/definitions/', '#/components/schemas/');
    else if (k === 'expected') out.description = v;
    else out[k] = componentOf(v);
  }
  return out;
}

const ERROR = { $ref: '#/components/schemas/Error' };

const PRECONDITION = {
  '412': 'The file changed since the ETag sent in If-Match was read (the answer carries the current ETag)',
  '428': 'No If-Match: send the ETag read with GET',
};

/** The answers particular to a route, beyond the ones every route of its kind gives. */
const EXTRA: Record<string, Record<string, string>> = {
  'PUT /api/rules': PRECONDITION,
  'PUT /api/lists/{list}': { ...PRECONDITION, '404': 'The ruleset has no such list', '409': 'The list is inline in the ruleset: change it with PUT /api/rules' },
  'GET /api/lists/{list}': { '404': 'The ruleset has no such list' },
  'POST /api/rules/whatif': { '409': 'No recorded traffic (serve --record FILE or --demo), or it cannot be read' },
  'POST /api/incidents/{n}/merge': { '404': 'No such incident', '409': 'One of the two was already merged' },
  'POST /api/accounts/{name}/disabled': { '404': 'No such account', '409': 'An admin cannot disable their own account' },
  'POST /api/tokens/{id}/revoke': { '404': 'No such token' },
};

export function openApiDocument(routes: readonly Route[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const params = [...(r.path.match(/\{[a-z_]+\}/g) ?? [])].map((p) => ({ name: p.slice(1, -1), in: 'path', required: true, schema: { type: 'string' } }));
    for (const q of r.query ?? []) params.push({ name: q.name, in: 'query', required: false, schema: q.schema as { type: string }, ...{ description: q.description } });
    const responses: Record<string, unknown> = {
      '200': r.produces
        ? { description: 'OK', content: Object.fromEntries(r.produces.map((t) => [t, { schema: { type: 'string' } }])) }
        : { description: 'OK', content: { 'application/json': { schema: responseSchema(r) } } },
    };
    if (r.body) responses['400'] = { description: 'The body breaks its schema (the message names the field)', content: { 'application/json': { schema: ERROR } } };
    if (r.role !== null) {
      responses['401'] = { description: 'No valid credentials', content: { 'application/json': { schema: ERROR } } };
      responses['403'] = { description: `Needs the ${r.role} role (or a CSRF token, with a session cookie)`, content: { 'application/json': { schema: ERROR } } };
    }
    if (r.path === '/api/login')
      responses['429'] = { description: 'Too many failed logins from this address or for this account', content: { 'application/json': { schema: ERROR } } };
    for (const [status, description] of Object.entries(EXTRA[`${r.method} ${r.path}`] ?? {}))
      responses[status] = { description, content: { 'application/json': { schema: ERROR } } };
    const op: Record<string, unknown> = {
      operationId: `${r.method.toLowerCase()}${r.path.replace(/[{}]/g, '').replace(/[/._-](\w)/g, (_m, c: string) => c.toUpperCase())}`,
      summary: r.summary,
      'x-palisade-role': r.role ?? 'none',
      security: r.role === null ? [] : [{ session: [] }, { token: [] }],
      parameters: params,
      responses,
    };
    if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${r.body}` } } } };
    paths[r.path] ??= {};
    (paths[r.path] as Record<string, unknown>)[r.method.toLowerCase()] = op;
  }
  const schemas: Record<string, unknown> = {
    Error: { type: 'object', required: ['error'], properties: { error: { type: 'string' }, field: { type: 'string' } } },
  };
  for (const [name, s] of Object.entries(requestSchemas())) schemas[name] = componentOf(s);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Palisade',
      version: '0.1.0',
      description:
        'The API of palisade serve: alerts, incidents, the audit log and accounts; the ruleset file and its lists (validate, replace under If-Match, what-if over the recorded traffic, exports), the field catalogue.',
    },
    paths,
    components: {
      schemas,
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'palisade_session', description: 'From POST /api/login; changes also need the X-CSRF-Token header' },
        token: { type: 'http', scheme: 'bearer', description: 'An API token (pal_…) from POST /api/accounts/{name}/tokens' },
      },
    },
  };
}

function responseSchema(r: Route): unknown {
  return r.response ?? { type: 'object' };
}
