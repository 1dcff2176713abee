// Kubernetes Status bodies and the error class that carries them (apimachinery pkg/api/errors/errors.go shapes).

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: { reason: string; message: string; field: string }[];
  retryAfterSeconds?: number;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export function statusBody(code: number, reason: string, message: string, details?: StatusDetails): StatusBody {
  const body: StatusBody = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) body.details = details;
  return body;
}

/** An API error answered with a Status body. `retryable` says whether a client may retry as is. */
export class KubeStatusError extends Error {
  readonly status: StatusBody;
  readonly code: number;
  readonly retryable: boolean;
  readonly headers: Record<string, string>;
  constructor(status: StatusBody, options?: { cause?: unknown; headers?: Record<string, string> }) {
    super(
      status.message ?? status.reason ?? `HTTP ${status.code}`,
      options?.cause ? { cause: options.cause } : undefined,
    );
    this.name = 'KubeStatusError';
    this.status = status;
    this.code = status.code;
    this.retryable = status.code === 429 || status.code >= 500 || status.code === 409;
    this.headers = options?.headers ?? {};
  }
}

/** `resource` is the plural, `group` '' for core. */
export function qualified(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

function details(name: string, group: string, kind: string): StatusDetails {
  const d: StatusDetails = { name };
  if (group) d.group = group;
  d.kind = kind;
  return d;
}

export const errors = {
  notFound(resource: string, group: string, name: string): KubeStatusError {
    return new KubeStatusError(
      statusBody(404, 'NotFound', `${qualified(resource, group)} "${name}" not found`, details(name, group, resource)),
    );
  },
  pathNotFound(): KubeStatusError {
    return new KubeStatusError(statusBody(404, 'NotFound', 'the server could not find the requested resource', {}));
  },
  alreadyExists(resource: string, group: string, name: string): KubeStatusError {
    return new KubeStatusError(
      statusBody(
        409,
        'AlreadyExists',
        `${qualified(resource, group)} "${name}" already exists`,
        details(name, group, resource),
      ),
    );
  },
  conflict(resource: string, group: string, name: string, why: string): KubeStatusError {
    return new KubeStatusError(
      statusBody(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": ${why}`,
        details(name, group, resource),
      ),
    );
  },
  invalid(
    kind: string,
    group: string,
    name: string,
    causes: { field: string; message: string; reason?: string }[],
  ): KubeStatusError {
    const qk = group ? `${kind}.${group}` : kind;
    const msgs = causes.map((c) => `${c.field}: ${c.message}`);
    const message = `${qk} "${name}" is invalid: ${msgs.length === 1 ? msgs[0] : `[${msgs.join(', ')}]`}`;
    const d: StatusDetails = { name };
    if (group) d.group = group;
    d.kind = kind;
    d.causes = causes.map((c) => ({ reason: c.reason ?? 'FieldValueInvalid', message: c.message, field: c.field }));
    return new KubeStatusError(statusBody(422, 'Invalid', message, d));
  },
  badRequest(message: string): KubeStatusError {
    return new KubeStatusError(statusBody(400, 'BadRequest', message));
  },
  gone(message: string): KubeStatusError {
    return new KubeStatusError(statusBody(410, 'Expired', message));
  },
  unauthorized(): KubeStatusError {
    return new KubeStatusError(statusBody(401, 'Unauthorized', 'Unauthorized'));
  },
  forbidden(user: string, verb: string, resource: string, group: string, namespace: string): KubeStatusError {
    const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
    const message = `${qualified(resource, group)} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${group}" ${scope}`;
    const d: StatusDetails = {};
    if (group) d.group = group;
    d.kind = resource;
    return new KubeStatusError(statusBody(403, 'Forbidden', message, d));
  },
  methodNotAllowed(): KubeStatusError {
    return new KubeStatusError(
      statusBody(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'),
    );
  },
  unsupportedMediaType(type: string): KubeStatusError {
    return new KubeStatusError(
      statusBody(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json; got ${type}`,
      ),
    );
  },
  internal(message: string): KubeStatusError {
    return new KubeStatusError(
      statusBody(500, 'InternalError', `Internal error occurred: ${message}`, {
        causes: [{ reason: '', message, field: '' }],
      }),
    );
  },
  tooManyRequests(retryAfterSeconds: number): KubeStatusError {
    return new KubeStatusError(
      statusBody(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds }),
      { headers: { 'Retry-After': String(retryAfterSeconds) } },
    );
  },
  tooLargeResourceVersion(requested: number, current: number): KubeStatusError {
    return new KubeStatusError(
      statusBody(504, 'Timeout', `Too large resource version: ${requested}, current: ${current}`, {
        causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version', field: '' }],
        retryAfterSeconds: 1,
      }),
    );
  },
};
