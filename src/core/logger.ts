// The logging the core needs (pino satisfies it); the core never logs credentials or codes.
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
