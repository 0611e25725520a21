/**
 * A compose file checked against the compose-spec JSON schema (vendored: compose-spec.json, from
 * github.com/compose-spec/compose-spec, Apache-2.0, see compose-spec.NOTICE) with ajv, before
 * anything else reads it. The first problem becomes one line in docker compose's wording
 * (`services.web.ports must be a array`, `(root) Additional property servicez is not allowed`).
 */
import type { ErrorObject, ValidateFunction } from 'ajv';

let compiled: ValidateFunction | undefined;

/**
 * The validator ajv generated from the schema at build time (scripts/gen-compose-validator.ts):
 * compiling the schema here would cost about a second per command. Its one dependency is ajv's
 * deep-equal helper (for uniqueItems).
 */
async function validator(): Promise<ValidateFunction> {
  if (compiled) return compiled;
  const { VALIDATOR_SOURCE } = await import('./schema-validator.js');
  // Whether interop hands over module.exports or its `default` depends on the loader (node, tsx,
  // the bundle): take the function wherever it is.
  let equal: unknown = await import('ajv/dist/runtime/equal.js');
  while (typeof equal !== 'function' && equal && typeof equal === 'object' && 'default' in equal) equal = (equal as { default: unknown }).default;
  const modules: Record<string, unknown> = { 'ajv/dist/runtime/equal': { default: equal } };
  const require = (id: string) => {
    if (!(id in modules)) throw new Error(`compose schema validator: unexpected require(${id})`);
    return modules[id];
  };
  const module = { exports: {} as unknown };
  new Function('require', 'module', 'exports', VALIDATOR_SOURCE)(require, module, module.exports);
  compiled = module.exports as ValidateFunction;
  return compiled;
}

export interface SchemaProblem {
  /** Keys and indices from the root to the offending value (for the line number). */
  path: (string | number)[];
  /** The additional property that is not allowed, if that is the problem. */
  key?: string;
  /** `services.web.ports must be a array`. */
  message: string;
}

/** undefined when the tree is a valid compose file. */
export async function validateTree(tree: unknown): Promise<SchemaProblem | undefined> {
  const validate = await validator();
  if (validate(tree)) return undefined;
  return describe(validate.errors ?? []);
}

const WRAPPERS = new Set(['oneOf', 'anyOf', 'allOf', 'if', 'then', 'else', 'not']);

function segments(instancePath: string): (string | number)[] {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

const dotted = (path: (string | number)[]) => (path.length ? path.join('.') : '(root)');

/**
 * ajv reports every branch of a oneOf that failed. The branch whose type matched has the useful
 * error (it went deeper); when none did, the expected types are listed together.
 */
export function describe(errors: ErrorObject[]): SchemaProblem {
  const specific = errors.filter((e) => e.keyword !== 'type' && !WRAPPERS.has(e.keyword));
  const deepest = (list: ErrorObject[]) => list.reduce((a, b) => (segments(b.instancePath).length > segments(a.instancePath).length ? b : a));
  const typeErrors = errors.filter((e) => e.keyword === 'type');
  let pick: ErrorObject | undefined;
  if (specific.length) pick = deepest(specific);
  if (typeErrors.length) {
    const t = deepest(typeErrors);
    if (!pick || segments(t.instancePath).length > segments(pick.instancePath).length) pick = t;
  }
  pick ??= errors[0];
  if (!pick) return { path: [], message: '(root) is invalid' };
  const path = segments(pick.instancePath);
  const where = dotted(path);
  const p = pick.params as Record<string, unknown>;
  switch (pick.keyword) {
    case 'type': {
      const types: string[] = [];
      for (const e of typeErrors.filter((x) => x.instancePath === pick!.instancePath)) {
        const t = (e.params as { type: string | string[] }).type;
        for (const one of Array.isArray(t) ? t : [t]) if (!types.includes(one)) types.push(one);
      }
      return { path, message: `${where} must be a ${types.join(' or ')}` };
    }
    case 'additionalProperties':
      return { path, key: String(p.additionalProperty), message: `${where} Additional property ${String(p.additionalProperty)} is not allowed` };
    case 'required':
      return { path, message: `${where} ${String(p.missingProperty)} is required` };
    case 'enum':
      return { path, message: `${where} must be one of the following: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'pattern':
      return { path, message: `${where} Does not match pattern '${String(p.pattern)}'` };
    case 'format':
      return { path, message: `${where} Does not match format '${String(p.format)}'` };
    case 'uniqueItems':
      return { path, message: `${where} contains duplicate element: items ${String(p.j)} and ${String(p.i)} are identical` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path, message: `${where} must be ${String(p.comparison)} ${String(p.limit)}` };
    case 'minItems':
      return { path, message: `${where} must have at least ${String(p.limit)} items` };
    case 'minProperties':
      return { path, message: `${where} must have at least ${String(p.limit)} properties` };
    case 'const':
      return { path, message: `${where} must be ${JSON.stringify(p.allowedValue)}` };
    case 'propertyNames':
      return { path, message: `${where} has an invalid property name ${JSON.stringify(p.propertyName)}` };
    case 'dependencies':
    case 'dependentRequired':
      return { path, message: `${where} ${String(p.property)} requires ${String(p.missingProperty)}` };
    default:
      return { path, message: `${where} ${pick.message ?? 'is invalid'}` };
  }
}
