// Turns a failed compiled-schema check into one ModelValidationError naming the most specific problem.
import type { Validator } from 'typebox/compile';
import { ModelValidationError } from './errors.ts';

// biome-ignore lint/suspicious/noExplicitAny: any compiled validator
type AnyValidator = Validator<any, any>;

/** Called only after Check failed, so the cost of Errors() is paid on bad input only. */
export function validationError(validator: AnyValidator, value: unknown, prefix = ''): ModelValidationError {
  const errors = validator.Errors(value);
  // Prefer the deepest concrete error over the umbrella anyOf / "schema is false" entries.
  let best = errors[0];
  for (const e of errors) {
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf' || e.keyword === 'boolean') continue;
    if (
      best === undefined ||
      best.keyword === 'anyOf' ||
      best.keyword === 'oneOf' ||
      best.keyword === 'boolean' ||
      e.instancePath.length > best.instancePath.length
    ) {
      best = e;
    }
  }
  if (best === undefined) return new ModelValidationError(prefix, 'invalid value');
  let reason = best.message;
  if (best.keyword === 'required') {
    const props = (best.params as { requiredProperties?: string[] }).requiredProperties;
    if (props !== undefined && props.length > 0) {
      return new ModelValidationError(`${prefix}${best.instancePath}/${props[0]}`, 'is required');
    }
  }
  if (best.keyword === 'additionalProperties') {
    const extra = (best.params as { additionalProperties?: string[] }).additionalProperties;
    if (extra !== undefined && extra.length > 0) reason = `unknown property ${JSON.stringify(extra[0])}`;
  }
  return new ModelValidationError(`${prefix}${best.instancePath}`, reason, {
    cause: errors.length > 1 ? errors : undefined,
  });
}
