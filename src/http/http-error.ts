/** An HTTP error a handler throws on purpose: the server answers it with its status and message (never a stack). */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    /** The offending field of a request body or path, for APIs that name it. */
    readonly field?: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}
