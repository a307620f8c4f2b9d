// Exit codes (a contract) and the error that means "bad input".

export const EXIT_PASS = 0;
export const EXIT_VIOLATION = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_INCOMPLETE = 3;

/** Bad input of any kind: printed as one line, exit code 2. */
export class UsageError extends Error {}
