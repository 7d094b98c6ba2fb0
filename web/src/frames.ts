/**
 * A small checker of a value against the JSON Schema that pydantic writes for the
 * server's frames (SERVER_FRAME_SCHEMA, generated with the types): `type`, `const`,
 * `enum`, `properties`/`required`, `items`, `anyOf` and local `$ref`s.
 *
 * It is a tolerant reader in one way only: a key the schema does not know is let
 * through (a newer server may add one before this bundle is reloaded). A missing
 * key, a wrong type or an unknown frame `type` is a problem.
 */

import type { JsonSchema } from './generated/protocol';

/** Null when `value` fits `schema`; otherwise what is wrong and where. */
export function checkAgainst(schema: JsonSchema, value: unknown): string | null {
  return check(schema, value, schema, '');
}

function resolve(root: JsonSchema, schema: JsonSchema): JsonSchema {
  let current = schema;
  for (let hops = 0; current.$ref !== undefined; hops++) {
    const name = current.$ref.replace(/^#\/\$defs\//, '');
    const target = root.$defs?.[name];
    if (target === undefined || hops > 32) throw new Error(`schema: cannot resolve ${current.$ref}`);
    current = target;
  }
  return current;
}

const at = (path: string): string => path || 'frame';

function typeMatches(type: string, value: unknown): boolean {
  switch (type) {
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    default:
      return true; // a type this checker does not know says nothing
  }
}

/** The branch of a union whose `type` constant names this value's `type`, if any. */
function branchByType(root: JsonSchema, branches: readonly JsonSchema[], value: unknown): JsonSchema | null {
  if (typeof value !== 'object' || value === null || !('type' in value)) return null;
  const kind = (value as { type: unknown }).type;
  for (const branch of branches) {
    const resolved = resolve(root, branch);
    if (resolved.properties?.type?.const === kind) return resolved;
  }
  return null;
}

function check(schema: JsonSchema, value: unknown, root: JsonSchema, path: string): string | null {
  const s = resolve(root, schema);
  if (s.anyOf !== undefined) {
    for (const branch of s.anyOf) {
      if (check(branch, value, root, path) === null) return null;
    }
    // A tagged union (the frames): say what is wrong with the frame of that type.
    const tagged = branchByType(root, s.anyOf, value);
    if (tagged !== null) return check(tagged, value, root, path);
    const kind = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
    if (path === '' && kind !== undefined) return `unknown frame type ${String(kind)}`;
    return `${at(path)}: not any of the allowed shapes`;
  }
  if (s.const !== undefined && value !== s.const) return `${at(path)}: expected ${JSON.stringify(s.const)}`;
  if (s.enum !== undefined && !s.enum.includes(value)) return `${at(path)}: not one of ${s.enum.join(', ')}`;
  if (s.type !== undefined && !typeMatches(s.type, value)) return `${at(path)}: expected ${s.type}`;
  if (Array.isArray(value) && s.items !== undefined) {
    for (let i = 0; i < value.length; i++) {
      const problem = check(s.items, value[i], root, `${path}[${i}]`);
      if (problem !== null) return problem;
    }
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    for (const name of s.required ?? []) {
      if (!(name in record)) return `${at(path)}: missing ${name}`;
    }
    for (const [name, item] of Object.entries(record)) {
      const known = s.properties?.[name];
      const child = path ? `${path}.${name}` : name;
      if (known !== undefined) {
        const problem = check(known, item, root, child);
        if (problem !== null) return problem;
      } else if (typeof s.additionalProperties === 'object') {
        const problem = check(s.additionalProperties, item, root, child);
        if (problem !== null) return problem;
      }
    }
  }
  return null;
}
