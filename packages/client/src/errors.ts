export type ChuteErrorKind = 'api' | 'storage' | 'storage_unreachable' | 'network' | 'abort';

/** Base class of every error this library throws on purpose. Switch on `kind`. */
export abstract class ChuteError extends Error {
  abstract readonly kind: ChuteErrorKind;
  /** set when the error is the answer to a multipart upload's part PUT: that part's number */
  partNumber?: number;
}

/** Chute answered with an error: `{code, message, extra?}`. */
export class ChuteApiError extends ChuteError {
  readonly kind = 'api' as const;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ChuteApiError';
  }
}

/** The storage (S3 or compatible) answered the upload with an error, e.g. EntityTooLarge, AccessDenied. */
export class StorageError extends ChuteError {
  readonly kind = 'storage' as const;
  constructor(
    readonly status: number,
    /** S3 error code, e.g. "EntityTooLarge", "AccessDenied"; "HTTP_<status>" when the body was not S3 XML */
    readonly code: string,
    /** S3's own <Message> */
    readonly storageMessage: string,
    /** every other simple element of the XML error, e.g. MaxSizeAllowed, ProposedSize */
    readonly details: Record<string, string> = {},
  ) {
    super(`The storage refused the upload (${code})${storageMessage ? `: ${storageMessage}` : ''}`);
    this.name = 'StorageError';
  }

  /** true when the presigned upload form had expired */
  get expired(): boolean {
    return this.code === 'AccessDenied' && /expired/i.test(this.storageMessage);
  }
}

/**
 * The upload to the storage failed without a readable answer (XHR status 0): the bucket's CORS
 * rules do not allow this page's origin, or the network failed.
 */
export class StorageUnreachableError extends ChuteError {
  readonly kind = 'storage_unreachable' as const;
  constructor() {
    super("The storage refused the browser's request (check the bucket's CORS rules) or the network failed");
    this.name = 'StorageUnreachableError';
  }
}

/** Chute itself could not be reached (offline, DNS, server down, CORS on Chute's side). */
export class NetworkError extends ChuteError {
  readonly kind = 'network' as const;
  constructor(options?: { cause?: unknown }) {
    super('Could not reach the Chute server (network error)', options);
    this.name = 'NetworkError';
  }
}

/** The operation was cancelled through its AbortSignal. */
export class AbortError extends ChuteError {
  readonly kind = 'abort' as const;
  constructor() {
    super('The upload was cancelled');
    this.name = 'AbortError';
  }
}

export const isChuteError = (error: unknown): error is ChuteError => error instanceof ChuteError;
