// Turning `kec run` arguments into service definitions.
import type { ServiceDefinition } from '@kec/runtime';
import type { ServiceLoader } from './registry.ts';

export class UsageError extends Error {
  override name = 'UsageError';
  readonly retryable = false;
}

/** The registry names the arguments select: `all` means every registered service, in registry order. */
export function selectServices(args: readonly string[], registry: Readonly<Record<string, ServiceLoader>>): string[] {
  const known = Object.keys(registry);
  if (args.includes('all')) {
    if (args.length > 1) throw new UsageError('"all" cannot be combined with service names');
    return known;
  }
  const unknown = args.filter((a) => !Object.hasOwn(registry, a));
  if (unknown.length > 0) {
    const list = known.length === 0 ? 'no services are built yet; only "all" works' : `known: ${known.join(', ')}, all`;
    const names = unknown.map((u) => `"${u}"`).join(', ');
    throw new UsageError(`unknown service ${names} (${list})`);
  }
  return [...new Set(args)];
}

/** Loads the selected services, checking that each registry name matches the definition's own name. */
export async function loadServices(
  names: readonly string[],
  registry: Readonly<Record<string, ServiceLoader>>,
): Promise<ServiceDefinition[]> {
  const defs = await Promise.all(names.map((n) => registry[n]!()));
  defs.forEach((def, i) => {
    if (def.name !== names[i]) {
      throw new Error(
        `registry entry "${names[i]}" loaded a service named "${def.name}"; fix services/cli/src/registry.ts`,
      );
    }
  });
  return defs;
}
