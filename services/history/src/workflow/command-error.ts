/** A command a worker sent is invalid: the workflow task fails with `cause` and the RPC answers INVALID_ARGUMENT. */
export class BadCommandError extends Error {
  constructor(readonly failedCause: number, message: string) {
    super(message);
    this.name = 'BadCommandError';
  }
}
