const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

const decode = (text: string): string =>
  text
    .trim()
    .replace(
      /&(?:#(x?)([0-9a-f]+)|([a-z]+));/gi,
      (match, hex: string | undefined, code: string | undefined, name: string | undefined) => {
        try {
          return code ? String.fromCodePoint(parseInt(code, hex ? 16 : 10)) : (ENTITIES[name!] ?? match);
        } catch {
          // beyond U+10FFFF, or decimal digits that are not
          return match;
        }
      },
    );

export interface ParsedStorageError {
  code: string;
  message: string;
  details: Record<string, string>;
}

/**
 * Reads an S3-style XML error body:
 * `<Error><Code>EntityTooLarge</Code><Message>...</Message><MaxSizeAllowed>10</MaxSizeAllowed></Error>`.
 * Returns null when the body has no <Code>.
 */
export function parseStorageError(body: string): ParsedStorageError | null {
  const details: Record<string, string> = {};
  for (const [, name, value] of body.matchAll(/<([A-Za-z][\w.-]*)>([^<]*)<\/\1>/g)) {
    if (!(name! in details)) details[name!] = decode(value!);
  }
  const code = details.Code;
  if (!code) return null;
  const message = details.Message ?? '';
  delete details.Code;
  delete details.Message;
  return { code, message, details };
}
