// Bad usage of the `signin` CLI: printed with the usage text, exit code 2 (a failed call is 1).
export class UsageError extends Error {}

export function usage(message: string): never {
  throw new UsageError(message);
}
