import { InvalidRequestError } from './errors.ts';
import type { LexParamsDef, LexPrimitiveDef, StringFormatValidators } from './types.ts';

/** Longest value accepted for a string parameter whose Lexicon sets no maxLength. */
export const MAX_PARAM_STRING_BYTES = 8192;
/** Most values accepted for a repeated parameter whose Lexicon sets no maxLength. */
export const MAX_PARAM_ARRAY_LENGTH = 256;

export type ParamsCoercer = (query: URLSearchParams) => Record<string, unknown>;

type ValueCoercer = (raw: string, name: string) => unknown;

const segmenter = new Intl.Segmenter();

/**
 * Builds, once per method, the function that turns a query string into typed parameters:
 * integers, booleans, repeated parameters as arrays, string formats and length limits,
 * all checked against the method's Lexicon `params` definition.
 */
export function buildParamsCoercer(def: LexParamsDef | undefined, formats: StringFormatValidators): ParamsCoercer {
  const properties = Object.entries(def?.properties ?? {});
  if (properties.length === 0) return () => ({});
  const required = new Set(def?.required ?? []);
  const fields = properties.map(([name, prop]) => {
    const isArray = prop.type === 'array';
    const item = (isArray ? (prop as { items: LexPrimitiveDef }).items : prop) as LexPrimitiveDef;
    const maxItems = isArray ? ((prop as { maxLength?: number }).maxLength ?? MAX_PARAM_ARRAY_LENGTH) : 1;
    const minItems = isArray ? ((prop as { minLength?: number }).minLength ?? 0) : 0;
    return {
      name,
      isArray,
      maxItems,
      minItems,
      required: required.has(name),
      emptyIsAbsent: item.type === 'integer' || item.type === 'boolean',
      fallback: item.default,
      coerce: buildValueCoercer(item, formats),
    };
  });

  return (query) => {
    const out: Record<string, unknown> = {};
    for (const field of fields) {
      let raw = query.getAll(field.name);
      // `?cursor=` is how some clients (the official firehose client among them) say "no cursor".
      if (field.emptyIsAbsent && raw.length > 0) raw = raw.filter((value) => value !== '');
      if (raw.length === 0) {
        if (field.required) throw new InvalidRequestError(`Params must have the property "${field.name}"`);
        if (field.fallback !== undefined) out[field.name] = field.fallback;
        continue;
      }
      if (!field.isArray) {
        if (raw.length > 1) throw new InvalidRequestError(`Parameter "${field.name}" must not be repeated`);
        out[field.name] = field.coerce(raw[0], field.name);
        continue;
      }
      if (raw.length > field.maxItems) {
        throw new InvalidRequestError(`Parameter "${field.name}" accepts at most ${field.maxItems} values`);
      }
      if (raw.length < field.minItems) {
        throw new InvalidRequestError(`Parameter "${field.name}" needs at least ${field.minItems} values`);
      }
      out[field.name] = raw.map((value) => field.coerce(value, field.name));
    }
    return out;
  };
}

function buildValueCoercer(def: LexPrimitiveDef, formats: StringFormatValidators): ValueCoercer {
  switch (def.type) {
    case 'integer':
      return buildIntegerCoercer(def);
    case 'boolean':
      return (raw, name) => {
        if (raw === 'true') return true;
        if (raw === 'false') return false;
        throw new InvalidRequestError(`Parameter "${name}" must be a boolean (true or false)`);
      };
    case 'string':
      return buildStringCoercer(def, formats);
    default:
      return (raw, name) => {
        if (Buffer.byteLength(raw) > MAX_PARAM_STRING_BYTES) {
          throw new InvalidRequestError(`Parameter "${name}" is too long`);
        }
        return raw;
      };
  }
}

function buildIntegerCoercer(def: LexPrimitiveDef): ValueCoercer {
  const { minimum, maximum } = def;
  const allowed = def.enum ? new Set(def.enum) : undefined;
  return (raw, name) => {
    if (!/^-?\d{1,16}$/.test(raw)) throw new InvalidRequestError(`Parameter "${name}" must be an integer`);
    const value = Number(raw);
    if (!Number.isSafeInteger(value)) throw new InvalidRequestError(`Parameter "${name}" must be an integer`);
    if (minimum !== undefined && value < minimum) {
      throw new InvalidRequestError(`Parameter "${name}" must be at least ${minimum}`);
    }
    if (maximum !== undefined && value > maximum) {
      throw new InvalidRequestError(`Parameter "${name}" must be at most ${maximum}`);
    }
    if (allowed && !allowed.has(value)) throw new InvalidRequestError(`Parameter "${name}" has an unknown value`);
    if (def.const !== undefined && value !== def.const) {
      throw new InvalidRequestError(`Parameter "${name}" must be ${String(def.const)}`);
    }
    return value;
  };
}

function buildStringCoercer(def: LexPrimitiveDef, formats: StringFormatValidators): ValueCoercer {
  const check = def.format ? formats[def.format] : undefined;
  if (def.format && !check) throw new Error(`no validator for string format "${def.format}"`);
  const maxBytes = Math.min(def.maxLength ?? MAX_PARAM_STRING_BYTES, MAX_PARAM_STRING_BYTES);
  const allowed = def.enum ? new Set(def.enum) : undefined;
  return (raw, name) => {
    const bytes = raw.length * 3 <= maxBytes ? raw.length : Buffer.byteLength(raw);
    if (bytes > maxBytes) throw new InvalidRequestError(`Parameter "${name}" must not be longer than ${maxBytes} bytes`);
    if (def.minLength !== undefined && Buffer.byteLength(raw) < def.minLength) {
      throw new InvalidRequestError(`Parameter "${name}" must not be shorter than ${def.minLength} bytes`);
    }
    if (def.maxGraphemes !== undefined || def.minGraphemes !== undefined) {
      const graphemes = countGraphemes(raw);
      if (def.maxGraphemes !== undefined && graphemes > def.maxGraphemes) {
        throw new InvalidRequestError(`Parameter "${name}" must not be longer than ${def.maxGraphemes} graphemes`);
      }
      if (def.minGraphemes !== undefined && graphemes < def.minGraphemes) {
        throw new InvalidRequestError(`Parameter "${name}" must not be shorter than ${def.minGraphemes} graphemes`);
      }
    }
    if (check && !check(raw)) throw new InvalidRequestError(`Parameter "${name}" must be a valid ${def.format}`);
    if (allowed && !allowed.has(raw)) {
      throw new InvalidRequestError(`Parameter "${name}" must be one of ${[...allowed].join(', ')}`);
    }
    if (def.const !== undefined && raw !== def.const) {
      throw new InvalidRequestError(`Parameter "${name}" must be ${String(def.const)}`);
    }
    return raw;
  };
}

function countGraphemes(value: string): number {
  let count = 0;
  for (const _ of segmenter.segment(value)) count++;
  return count;
}
