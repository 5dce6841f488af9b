// Typed domain errors. Domain modules throw these; one place (httpStatusFor /
// errorResponse in app/http/errors.server.ts) turns them into a status and a
// message a person can act on.
export type FieldErrors = Record<string, string[]>;

export class DomainError extends Error {
  readonly status: number = 500;
  readonly code: string = "internal";
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends DomainError {
  override readonly status = 422;
  override readonly code = "validation_failed";
  constructor(
    message: string,
    readonly fieldErrors: FieldErrors = {},
  ) {
    super(message);
  }
}

export class BadRequestError extends DomainError {
  override readonly status = 400;
  override readonly code = "bad_request";
}

export class UnauthorizedError extends DomainError {
  override readonly status = 401;
  override readonly code = "unauthorized";
}

export class ForbiddenError extends DomainError {
  override readonly status = 403;
  override readonly code = "forbidden";
}

export class NotFoundError extends DomainError {
  override readonly status = 404;
  override readonly code = "not_found";
}

export class ConflictError extends DomainError {
  override readonly status = 409;
  override readonly code = "conflict";
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export class RateLimitedError extends DomainError {
  override readonly status = 429;
  override readonly code = "rate_limited";
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

export class ProviderUnavailableError extends DomainError {
  override readonly status = 503;
  override readonly code = "provider_unavailable";
  constructor(
    message: string,
    readonly provider: string,
  ) {
    super(message);
  }
}

export interface ErrorBody {
  error: { code: string; message: string; fields?: FieldErrors; details?: Record<string, unknown> };
}

/** Map any thrown value to an HTTP status and a JSON body; unknown errors never leak internals. */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (err instanceof DomainError) {
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    const headers: Record<string, string> = {};
    if (err instanceof ValidationError && Object.keys(err.fieldErrors).length) body.error.fields = err.fieldErrors;
    if (err instanceof ConflictError && Object.keys(err.details).length) body.error.details = err.details;
    if (err instanceof RateLimitedError) headers["Retry-After"] = String(err.retryAfterSeconds);
    return { status: err.status, body, headers };
  }
  return {
    status: 500,
    body: { error: { code: "internal", message: "Something went wrong on our side. It has been logged; please try again." } },
    headers: {},
  };
}
