import type { FastifyServerOptions } from 'fastify';
import pinoPretty from 'pino-pretty';
import type { Config } from './config.js';

/** Never in a log line, whatever the format: credentials ride in these headers. */
const REDACT = ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'];

/**
 * The server's pino options: JSON lines for log collectors, readable lines for a person at a
 * terminal (LOG_FORMAT=auto picks by whether stdout is one).
 */
export function loggerOptions(
  config: Pick<Config, 'logLevel' | 'logFormat'>,
  { isTTY }: { isTTY: boolean },
): FastifyServerOptions['logger'] {
  const pretty = config.logFormat === 'pretty' || (config.logFormat === 'auto' && isTTY);
  return {
    level: config.logLevel,
    redact: REDACT,
    // a stream in this thread, not a transport: a line is written before the process can exit
    ...(pretty && {
      stream: pinoPretty({
        colorize: isTTY,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname',
        singleLine: true,
      }),
    }),
  };
}
