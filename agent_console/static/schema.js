// The page's JSON Schema validator: the subset protocol v2 uses (type, incl. arrays of types and null;
// properties, required, additionalProperties false, enum, const, minimum, maximum, minLength, maxLength,
// items, oneOf, $ref to "#/$defs/..."). Messages from the server are checked against the bundle at
// GET /protocol/schemas.json before the page applies them.

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function typeOf(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value; // "object", "string", "number", "boolean"
}

function hasType(value, type) {
  if (type === "integer") return Number.isInteger(value);
  if (type === "number") return typeof value === "number" && Number.isFinite(value);
  return typeOf(value) === type;
}

function resolve(ref, root) {
  if (!ref.startsWith("#/$defs/")) throw new Error(`unsupported $ref ${ref}`);
  const target = root.$defs?.[ref.slice("#/$defs/".length)];
  if (target === undefined) throw new Error(`unknown $ref ${ref}`);
  return target;
}

function checkObject(schema, value, root, path, errors) {
  for (const name of schema.required ?? []) {
    if (!(name in value)) errors.push(`${path}: missing ${name}`);
  }
  const props = schema.properties ?? {};
  for (const [name, item] of Object.entries(value)) {
    if (name in props) check(props[name], item, root, `${path}.${name}`, errors);
    else if (schema.additionalProperties === false) errors.push(`${path}: unexpected ${name}`);
    else if (typeof schema.additionalProperties === "object") {
      check(schema.additionalProperties, item, root, `${path}.${name}`, errors);
    }
  }
}

function checkScalar(schema, value, path, errors) {
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${path}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${path}: above ${schema.maximum}`);
  }
  if (typeof value === "string") {
    const length = [...value].length; // code points, as JSON Schema counts them
    if (schema.minLength !== undefined && length < schema.minLength) errors.push(`${path}: shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && length > schema.maxLength) errors.push(`${path}: longer than ${schema.maxLength}`);
  }
}

function check(schema, value, root, path, errors) {
  if (schema === true || schema === undefined) return;
  if (schema === false) { errors.push(`${path}: not allowed`); return; }
  if (schema.$ref) { check(resolve(schema.$ref, root), value, root, path, errors); }
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => hasType(value, t))) {
      errors.push(`${path}: ${typeOf(value)} is not ${types.join(" or ")}`);
      return;
    }
  }
  if ("const" in schema && !same(schema.const, value)) errors.push(`${path}: must be ${JSON.stringify(schema.const)}`);
  if (schema.enum && !schema.enum.some((v) => same(v, value))) errors.push(`${path}: not one of ${JSON.stringify(schema.enum)}`);
  checkScalar(schema, value, path, errors);
  if (typeOf(value) === "object") checkObject(schema, value, root, path, errors);
  if (Array.isArray(value) && schema.items !== undefined) {
    value.forEach((item, i) => check(schema.items, item, root, `${path}[${i}]`, errors));
  }
  if (schema.oneOf) {
    const matching = schema.oneOf.filter((s) => validate(s, value, root).length === 0).length;
    if (matching !== 1) errors.push(`${path}: matches ${matching} of oneOf, not exactly 1`);
  }
}

/** The errors of `value` against `schema` ([] when it is valid); `root` holds the $defs. */
export function validate(schema, value, root = schema) {
  const errors = [];
  check(schema, value, root, "$", errors);
  return errors;
}

/** The server's schema bundle, or null when this server serves none (protocol v1: no validation). */
export async function loadBundle(fetchFn = fetch) {
  const r = await fetchFn("/protocol/schemas.json", { credentials: "same-origin" });
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(`schemas.json: HTTP ${r.status}`);
  return r.json();
}

/** The errors of one server message against the bundle; a type the bundle does not know is an error. */
export function checkServerMessage(bundle, message) {
  const schema = bundle.server?.[message?.type];
  if (schema === undefined) return [`no schema for server message type ${JSON.stringify(message?.type)}`];
  return validate(schema, message);
}
