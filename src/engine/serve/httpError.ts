// Errors that become HTTP answers, with the bodies A1111 clients already parse:
//   - A1111's own errors (api_middleware's handle_exception): {error, detail, body, errors};
//   - a request field FastAPI refuses (422): {detail: [{type, loc, msg, input}]}.

export class HttpError extends Error {
  constructor(readonly status: number, readonly body: unknown, readonly headers: Record<string, string> = {}) {
    super(typeof body === 'object' && body !== null && 'detail' in body ? String((body as { detail: unknown }).detail) : `HTTP ${status}`);
    this.name = 'HttpError';
  }
}

/** A1111's body for an HTTPException: `errors` is Starlette's str(), "STATUS: DETAIL". */
export function a1111Error(status: number, detail: string, headers: Record<string, string> = {}): HttpError {
  return new HttpError(status, { error: 'HTTPException', detail, body: '', errors: `${status}: ${detail}` }, headers);
}

/** FastAPI's 422 for one request field; `loc` starts with "body" as FastAPI's does. */
export function fieldError(field: string | (string | number)[], msg: string, input: unknown, type = 'value_error'): HttpError {
  const loc = ['body', ...(Array.isArray(field) ? field : [field])];
  return new HttpError(422, { detail: [{ type, loc, msg, input: shortInput(input) }] });
}

/** Echoed inputs stay small: a base64 image is not sent back in an error. */
function shortInput(v: unknown): unknown {
  if (typeof v === 'string' && v.length > 200) return `${v.slice(0, 200)}…`;
  return v;
}
