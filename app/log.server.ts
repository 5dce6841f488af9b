// Structured JSON logs. Secrets are redacted by path so a careless
// `log.info({ req })` or `log.info({ credentials })` never writes them.
import { pino, type Logger, type DestinationStream } from "pino";

export const REDACT_PATHS = [
  "password",
  "*.password",
  "passwordHash",
  "*.passwordHash",
  "token",
  "*.token",
  "accessToken",
  "*.accessToken",
  "refreshToken",
  "*.refreshToken",
  "access_token",
  "*.access_token",
  "refresh_token",
  "*.refresh_token",
  "secret",
  "*.secret",
  "clientSecret",
  "*.clientSecret",
  "apiKey",
  "*.apiKey",
  "credentials",
  "*.credentials",
  "authorization",
  "*.authorization",
  "cookie",
  "*.cookie",
  'headers["authorization"]',
  'headers["cookie"]',
  'headers["set-cookie"]',
  '*.headers["authorization"]',
  '*.headers["cookie"]',
  '*.headers["set-cookie"]',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

export type { Logger };
