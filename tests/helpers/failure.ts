/** The error a promise or function ends with, for tests that check what users are told. */

export async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure, but it succeeded');
}

export function thrownBy(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure, but it succeeded');
}

/** What any message shown to a user must be: one line, no placeholders of undefined values, no raw Node text. */
export function oneLineProblems(message: string): string[] {
  const problems: string[] = [];
  if (/[\n\r\u2028\u2029]/.test(message)) problems.push('has a line break');
  if (message.includes('undefined')) problems.push('says "undefined"');
  if (message.includes('[object Object]')) problems.push('says "[object Object]"');
  if (/\bE[A-Z]{2,}: .*, [a-z]+ '/.test(message)) problems.push("shows Node's raw error text");
  if (/\n\s+at /.test(message)) problems.push('holds a stack trace');
  return problems;
}
