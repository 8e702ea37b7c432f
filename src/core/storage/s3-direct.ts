import type { Readable } from 'node:stream';
import { type S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { parseXML } from '@aws-sdk/xml-builder';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HeaderBag, HttpRequest, HttpResponse, RetryErrorType, SdkError } from '@smithy/types';
import { type BucketAddress, CLOCK_SKEW_MS, escapeKey, storageNow } from './s3-presign.js';

/** What S3 answered: the status, its headers (lower-case names) and the body, to read or drop. */
export interface S3Answer {
  status: number;
  headers: HeaderBag;
  body: Readable | undefined;
}

/** SHA-256 of an empty body: every request here has none, and S3 wants the payload's hash signed. */
const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** How the SDK's retry middleware classifies a failure (its own predicates); its strategy decides what to retry. */
function retryErrorType(error: unknown): RetryErrorType {
  const failure = error as SdkError;
  if (isThrottlingError(failure)) return 'THROTTLING';
  if (isTransientError(failure)) return 'TRANSIENT'; // no answer (reset, refused, timed out) or 500/502/503/504
  return isServerError(failure) ? 'SERVER_ERROR' : 'CLIENT_ERROR';
}

/**
 * The S3 calls on the request path (a finish's HeadObject or ranged GetObject, a multipart upload's
 * create) signed by the SDK's own SigV4 signer and sent by the client's own HTTP handler (its
 * keep-alive pool, its timeouts) and retry strategy, without the client's middleware stack: that
 * stack (endpoint rules, serializers, some forty middlewares) cost about 1 ms of CPU per call here,
 * this about 0.25 ms. A refusal is thrown as the S3ServiceException the SDK throws (its name is
 * S3's error code, its $metadata the status), so callers map errors one way for both paths.
 */
export class S3DirectRequests {
  private signer: SignatureV4 | null = null;

  constructor(
    private readonly client: S3Client,
    private readonly address: BucketAddress,
  ) {}

  /** One request about an object; a 2xx answer is returned as it is, anything else thrown. */
  async send({
    method,
    key,
    query = {},
    headers = {},
  }: {
    method: 'HEAD' | 'GET' | 'POST';
    key: string;
    query?: Record<string, string>;
    headers?: Record<string, string>;
  }): Promise<S3Answer> {
    const { url, region } = await this.address.resolve();
    const request: HttpRequest = {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port && { port: Number(url.port) }),
      path: `${url.pathname}${escapeKey(key)}`,
      query,
      headers: { ...headers, host: url.host, 'x-amz-content-sha256': EMPTY_BODY_SHA256 },
    };
    const strategy = await this.client.config.retryStrategy();
    // a strategy of the older kind (a host's own client) wraps a middleware stack: one attempt then
    if (!('acquireInitialRetryToken' in strategy)) return this.attempt(request, region);
    let token = await strategy.acquireInitialRetryToken('s3-direct');
    for (;;) {
      try {
        const answer = await this.attempt(request, region);
        strategy.recordSuccess(token);
        return answer;
      } catch (error) {
        // the strategy waits its backoff; it refuses what is not worth retrying and once the attempts run out
        token = await strategy
          .refreshRetryTokenForRetry(token, { errorType: retryErrorType(error) })
          .catch(() => Promise.reject(error));
      }
    }
  }

  private async attempt(request: HttpRequest, region: string): Promise<S3Answer> {
    const { config } = this.client;
    const sentAt = Date.now();
    const signed = (await this.signerFor(region).sign(
      { ...request, headers: { ...request.headers } },
      { signingDate: storageNow(this.client) },
    )) as HttpRequest;
    const { response } = (await config.requestHandler.handle(signed)) as { response: HttpResponse };
    const skewCorrected = sampleClock(config, response.headers, sentAt);
    let body = response.body as Readable | undefined;
    // a HEAD's answer has no body, yet its socket goes back to the pool only once the stream has ended
    if (request.method === 'HEAD') body = void body?.resume();
    const answer = { status: response.statusCode, headers: response.headers, body };
    if (answer.status >= 200 && answer.status < 300) return answer;
    const error = await refusal(answer);
    // signed on a clock S3 found too far off (RequestTimeTooSkewed): worth another try, as in the SDK
    if (skewCorrected) Object.assign(error.$metadata, { clockSkewCorrected: true }); // what the strategy reads
    throw error;
  }

  private signerFor(region: string): SignatureV4 {
    // S3 signs the path as sent (escaped once) and the credentials are the client's own provider
    this.signer ??= new SignatureV4({
      credentials: this.client.config.credentials,
      region,
      service: 's3',
      sha256: this.client.config.sha256,
      uriEscapePath: false,
      applyChecksum: false,
    });
    return this.signer;
  }
}

/**
 * Keeps the client's clock offset to the storage's clock (its answer's Date), as the SDK's own calls
 * do, so that once the clocks are a skew apart these requests, the SDK's and the presigned POSTs and
 * URLs are all signed on S3's time (`storageNow` ignores a smaller offset). True when the offset
 * moved by a skew (the request was likely refused for its time).
 */
function sampleClock(config: { systemClockOffset: number }, headers: HeaderBag, sentAt: number): boolean {
  const serverTime = Date.parse(headers.date ?? '');
  const now = Date.now();
  // a cached answer's Date, or one that took too long to say when it was made, tells nothing
  if (headers.age !== undefined || Number.isNaN(serverTime) || now - sentAt > 900_000) return false;
  const before = config.systemClockOffset;
  config.systemClockOffset = serverTime - now;
  return Math.abs(config.systemClockOffset - before) >= CLOCK_SKEW_MS;
}

/** The body of an answer as text (an XML document of S3's). */
export async function readText(body: Readable | undefined): Promise<string> {
  if (!body) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A non-2xx answer as the SDK throws it: S3's error code as the name (from the XML body when there is one). */
async function refusal({ status, body }: S3Answer): Promise<S3ServiceException> {
  let error: { Code?: string; Message?: string } = {};
  try {
    const text = await readText(body);
    if (text) error = (parseXML(text) as { Error?: typeof error }).Error ?? {};
  } catch {
    // a cut or garbled body: the status alone says what happened
  }
  return new S3ServiceException({
    name: error.Code ?? (status === 404 ? 'NotFound' : `Http${status}`),
    message: error.Message ?? `S3 answered ${status}`,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}
