/** A file could not be written or read where the user asked (maps to ErrorCodes.outputError). */
export class OutputError extends Error {
  readonly kind = 'outputError';
  constructor(
    message: string,
    readonly path: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'OutputError';
  }
}
