// What makes webhook settings valid, for the environment (src/config.ts) and @chute/server's
// options alike: each caller words the refusal with its own name for the setting.

export interface WebhookSettings {
  /** the endpoints every event is sent to */
  urls: string[];
  /** `whsec_` and base64: the Standard Webhooks signing secret */
  secret: string;
}

/** Why `raw` is no webhook endpoint (an absolute http(s) URL), or null when it is one. */
export function webhookUrlProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `"${raw}" is not an absolute URL like https://app.example.com/webhooks/chute`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `"${raw}" must be an http or https URL`;
  return null;
}

// Standard Webhooks: a secret of 24 to 64 random bytes, base64, after `whsec_`
const SECRET_PREFIX = 'whsec_';
const SECRET_BYTES = { min: 24, max: 64 };

/** The bytes a secret stands for: the HMAC key. */
export const webhookSecretKey = (secret: string): Buffer => Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');

/** Why `raw` is no signing secret, or null when it is one. */
export function webhookSecretProblem(raw: string): string | null {
  const body = raw.startsWith(SECRET_PREFIX) ? raw.slice(SECRET_PREFIX.length) : null;
  const bytes = body !== null && /^[A-Za-z0-9+/]+={0,2}$/.test(body) ? webhookSecretKey(raw).length : 0;
  if (bytes < SECRET_BYTES.min || bytes > SECRET_BYTES.max)
    return `must be "whsec_" followed by ${SECRET_BYTES.min} to ${SECRET_BYTES.max} random bytes in base64 (e.g. whsec_$(openssl rand -base64 32))`;
  return null;
}
