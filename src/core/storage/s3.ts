import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  DeleteObjectCommand,
  ListPartsCommand,
  HeadBucketCommand,
  S3Client,
  S3ServiceException,
  type ObjectCannedACL,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { parseXML } from '@aws-sdk/xml-builder';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { S3Config } from '../../config.js';
import { AppError, isAppError, notFound } from '../../errors.js';

import { ByteLimiter } from './limit.js';
import { PresignedPostSigner } from './s3-post.js';
import { readText, S3DirectRequests } from './s3-direct.js';
import { BucketAddress, PresignedUrlSigner } from './s3-presign.js';
import { downloadHeaders, isInlineSafe, storedDisposition } from './serving.js';
import type * as T from './types.js';

/** An upload S3 no longer has (completed or aborted; RGW says NoSuchKey): not_found, as the local backend says. */
const noSuchUpload = () => notFound('multipartUpload');

/** Connections to the storage one process keeps open at most. */
const S3_MAX_SOCKETS = 1024;

const PUBLIC_ACLS = new Set(['public-read', 'public-read-write']);

export function createS3Client(config: S3Config): S3Client {
  return new S3Client({
    region: config.region,
    endpoint: config.endpoint ?? undefined,
    // S3-compatible servers (RGW, MinIO) are addressed by path, not by bucket subdomain.
    forcePathStyle: config.endpoint !== null,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    // Otherwise presigned URLs carry a checksum of an empty body, which real S3 then rejects.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
    // The handler's connection timeout also runs while a request waits for a pooled socket: with
    // the SDK's 50 sockets a burst of finishes (each a HeadObject) queued past 5 s and failed as
    // storage_unavailable. A larger keep-alive pool lets a burst through; the timeout still
    // catches a storage that does not answer.
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 5_000,
      requestTimeout: 60_000,
      httpAgent: { keepAlive: true, maxSockets: S3_MAX_SOCKETS },
      httpsAgent: { keepAlive: true, maxSockets: S3_MAX_SOCKETS },
    }),
  });
}

const statusOf = (error: unknown): number | undefined =>
  (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;

/** Anything that is not S3 answering about the object itself means the storage is not usable. */
function unavailable(error: unknown): AppError {
  const name = error instanceof Error ? error.name : 'Error';
  return new AppError('storage_unavailable', 'The file storage could not be reached. Try again later.', {
    reason: error instanceof S3ServiceException ? `${name} (${statusOf(error)})` : name,
  });
}

export class S3Storage implements T.StorageBackend {
  readonly kind = 's3' as const;
  readonly client: S3Client;
  private readonly postSigner: PresignedPostSigner;
  private readonly urlSigner: PresignedUrlSigner;
  private readonly direct: S3DirectRequests;

  constructor(
    private readonly config: S3Config,
    client?: S3Client,
  ) {
    this.client = client ?? createS3Client(config);
    const address = new BucketAddress(this.client, config.bucket);
    this.postSigner = new PresignedPostSigner(this.client, config.bucket, address);
    this.urlSigner = new PresignedUrlSigner(this.client, address);
    this.direct = new S3DirectRequests(this.client, address);
  }

  get bucket(): string {
    return this.config.bucket;
  }

  /** Whether objects of this type are public: never one a browser could run as a page. */
  private isPublic(contentType: string): boolean {
    return PUBLIC_ACLS.has(this.config.defaultAcl) && isInlineSafe(contentType);
  }

  /**
   * The canned ACL an object of this type is stored with. With a public ACL, types not safe inline
   * stay private and are served by presigned GETs that force a download: a storage may ignore the
   * Content-Disposition a presigned POST pins (Ceph RGW does), and its plain URL would render them.
   */
  private aclFor(contentType: string): ObjectCannedACL {
    return (
      PUBLIC_ACLS.has(this.config.defaultAcl) && !isInlineSafe(contentType) ? 'private' : this.config.defaultAcl
    ) as ObjectCannedACL;
  }

  async createDirectUpload({
    key,
    contentType,
    minSize,
    maxSize,
    expiresIn,
  }: T.DirectUploadRequest): Promise<T.DirectUploadTarget> {
    // the policy pins the stored disposition too: a form without it (or with another) is refused
    const disposition = storedDisposition(contentType);
    const pinned = {
      acl: this.aclFor(contentType),
      'Content-Type': contentType,
      ...(disposition && { 'Content-Disposition': disposition }),
    };
    // Signing is local computation: start never waits on the storage.
    return this.postSigner.sign({
      key,
      fields: pinned,
      conditions: [
        ...Object.entries(pinned).map(([name, value]) => ({ [name]: value })),
        ['content-length-range', minSize, maxSize],
      ],
      expiresIn,
    });
  }

  async put({ key, body, contentType, maxSize }: T.PutRequest): Promise<{ size: number }> {
    // A body that failed before it got here (a multipart part cut short) never emits again: piping
    // it would wait forever for bytes that never come, and the request would hang.
    if (body.errored || body.destroyed)
      throw body.errored ?? new AppError('validation_failed', 'The file was cut short.');
    const limiter = new ByteLimiter(maxSize);
    body.on('error', (error) => limiter.destroy(error));
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.config.bucket,
        Key: key,
        Body: body.pipe(limiter),
        ContentType: contentType,
        ContentDisposition: storedDisposition(contentType),
        ACL: this.aclFor(contentType),
      },
      queueSize: 2,
      leavePartsOnError: false,
    });
    limiter.on('error', () => void upload.abort().catch(() => undefined));
    try {
      await upload.done();
    } catch (error) {
      const cause = limiter.errored ?? error;
      await this.delete(key).catch(() => undefined);
      // the client's body failing (cut, malformed) is not the storage's fault
      if (isAppError(cause) || cause === body.errored) throw cause;
      throw unavailable(cause);
    }
    if (limiter.bytes === 0) {
      await this.delete(key);
      throw new AppError('file_empty', 'The submitted file is empty.');
    }
    return { size: limiter.bytes };
  }

  async head(key: string, { firstBytes = 0 }: { firstBytes?: number } = {}): Promise<T.StoredObject | null> {
    try {
      if (firstBytes > 0) return await this.headWithFirstBytes(key, firstBytes);
      const head = await this.direct.send({ method: 'HEAD', key });
      return {
        size: Number(head.headers['content-length'] ?? 0),
        contentType: head.headers['content-type'] ?? null,
        firstBytes: Buffer.alloc(0),
      };
    } catch (error) {
      if (statusOf(error) === 404) return null;
      // a ranged GET of an empty object: there is no byte 0 to range over
      if (statusOf(error) === 416) return { size: 0, contentType: null, firstBytes: Buffer.alloc(0) };
      throw unavailable(error);
    }
  }

  /** One ranged GET answers what a HEAD does (the total size is in Content-Range) and the bytes. */
  private async headWithFirstBytes(key: string, length: number): Promise<T.StoredObject> {
    const object = await this.direct.send({ method: 'GET', key, headers: { range: `bytes=0-${length - 1}` } });
    const chunks: Buffer[] = [];
    let read = 0;
    // A 206 holds at most the range: read it to its end, which gives the socket back to the pool
    // (leaving it unread would close the connection, one new one per finish). A storage that
    // ignores Range sends the whole object: take what is needed and hang up.
    const enough = object.status === 206 ? length + 1 : length;
    const body = object.body;
    if (body) {
      for await (const chunk of body) {
        chunks.push(chunk as Buffer);
        read += (chunk as Buffer).length;
        if (read >= enough) break;
      }
      if (!body.readableEnded) body.destroy();
    }
    const total = /\/(\d+)$/.exec(object.headers['content-range'] ?? '')?.[1];
    return {
      size: total === undefined ? Number(object.headers['content-length'] ?? read) : Number(total),
      contentType: object.headers['content-type'] ?? null,
      firstBytes: Buffer.concat(chunks).subarray(0, length),
    };
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: key }));
    } catch (error) {
      if (statusOf(error) === 404) return;
      throw unavailable(error);
    }
  }

  async downloadUrl({ key, fileName, contentType, expiresIn }: T.DownloadUrlRequest): Promise<string> {
    const path = key.split('/').map(encodeURIComponent).join('/');
    if (this.isPublic(contentType)) {
      if (this.config.customDomain) return `https://${this.config.customDomain}/${path}`;
      if (this.config.endpoint) return `${this.config.endpoint}/${this.config.bucket}/${path}`;
      return `https://${this.config.bucket}.s3.${this.config.region}.amazonaws.com/${path}`;
    }
    const served = downloadHeaders(fileName, contentType);
    return this.urlSigner.sign({
      operation: 'GetObject',
      key,
      query: { 'response-content-disposition': served.contentDisposition, 'response-content-type': served.contentType },
      expiresIn,
    });
  }

  async createMultipart({ key, contentType }: { key: string; contentType: string }): Promise<{ uploadId: string }> {
    const disposition = storedDisposition(contentType);
    const created = await this.call(async () => {
      const answer = await this.direct.send({
        method: 'POST',
        key,
        query: { uploads: '' },
        headers: {
          'content-type': contentType,
          ...(disposition && { 'content-disposition': disposition }),
          'x-amz-acl': this.aclFor(contentType),
        },
      });
      return parseXML(await readText(answer.body)) as { InitiateMultipartUploadResult?: { UploadId?: unknown } };
    });
    const uploadId = created.InitiateMultipartUploadResult?.UploadId;
    if (typeof uploadId !== 'string' || !uploadId)
      throw unavailable(new Error('CreateMultipartUpload returned no UploadId'));
    return { uploadId };
  }

  async signPart({
    key,
    uploadId,
    partNumber,
    contentMd5,
    contentLength,
    expiresIn,
  }: T.SignPartRequest): Promise<T.SignedRequest> {
    // Content-MD5 is signed, so the client must send it and the storage checks the bytes against it;
    // a signed Content-Length makes the storage refuse a body of any other size (the browser sets it).
    const url = await this.urlSigner.sign({
      operation: 'UploadPart',
      key,
      query: { partNumber: String(partNumber), uploadId },
      headers: {
        ...(contentMd5 && { 'content-md5': contentMd5 }),
        ...(contentLength !== undefined && { 'content-length': String(contentLength) }),
      },
      expiresIn,
    });
    return { method: 'PUT', url, headers: contentMd5 ? { 'Content-MD5': contentMd5 } : {} };
  }

  async listParts({ key, uploadId }: { key: string; uploadId: string }): Promise<T.UploadedPart[]> {
    const parts: T.UploadedPart[] = [];
    let marker: string | undefined;
    do {
      const page = await this.call(
        () =>
          this.client.send(
            new ListPartsCommand({
              Bucket: this.config.bucket,
              Key: key,
              UploadId: uploadId,
              PartNumberMarker: marker,
            }),
          ),
        [],
        noSuchUpload,
      );
      for (const part of page.Parts ?? [])
        parts.push({ partNumber: part.PartNumber!, size: part.Size ?? 0, etag: part.ETag ?? '' });
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
    } while (marker);
    return parts;
  }

  async completeMultipart({ key, uploadId, parts }: T.CompleteMultipartRequest): Promise<{ sha256: string | null }> {
    await this.call(
      () =>
        this.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.config.bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })) },
          }),
        ),
      [],
      noSuchUpload,
    );
    return { sha256: null };
  }

  async abortMultipart({ key, uploadId }: { key: string; uploadId: string }): Promise<void> {
    await this.call(
      () =>
        this.client.send(new AbortMultipartUploadCommand({ Bucket: this.config.bucket, Key: key, UploadId: uploadId })),
      [404],
    );
  }

  async signPut({ key, contentType, contentLength, expiresIn }: T.SignPutRequest): Promise<T.SignedRequest> {
    const disposition = storedDisposition(contentType);
    // every header given is signed: the client must send them as they are
    const url = await this.urlSigner.sign({
      operation: 'PutObject',
      key,
      headers: {
        'content-type': contentType,
        ...(disposition && { 'content-disposition': disposition }),
        ...(contentLength !== undefined && { 'content-length': String(contentLength) }),
        'x-amz-acl': this.aclFor(contentType),
      },
      expiresIn,
    });
    return {
      method: 'PUT',
      url,
      headers: { 'Content-Type': contentType, ...(disposition && { 'Content-Disposition': disposition }) },
    };
  }

  /**
   * S3's answers about the request itself (4xx: no such upload, bad part, too small) become
   * upload_rejected with S3's own code; anything else means the storage is unavailable.
   */
  private async call<T>(action: () => Promise<T>, ignoreStatuses: number[] = [], on404?: () => AppError): Promise<T> {
    try {
      return await action();
    } catch (error) {
      const status = statusOf(error);
      if (status !== undefined && ignoreStatuses.includes(status)) return undefined as T;
      if (status === 404 && on404) throw on404();
      if (error instanceof S3ServiceException && status !== undefined && status >= 400 && status < 500) {
        throw new AppError('upload_rejected', `The storage refused the request: ${error.name}: ${error.message}`, {
          storage_code: error.name,
        });
      }
      throw unavailable(error);
    }
  }

  async ping(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.config.bucket }));
    } catch (error) {
      throw unavailable(error);
    }
  }
}
