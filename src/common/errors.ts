// Errors meant for the person at the keyboard: the CLI prints their message on one line and
// exits non-zero, without a stack trace. Anything else reaching the top is a bug and shows one.

export class UserError extends Error {
  override readonly name = 'UserError';
}
