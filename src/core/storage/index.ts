import type { Config } from '../../config.js';
import type { UrlSigner } from '../signing.js';
import { LocalStorage } from './local.js';
import { S3Storage } from './s3.js';
import type { StorageBackend } from './types.js';

export function createStorage(config: Config, signer: UrlSigner): StorageBackend {
  if (config.storage === 's3') return new S3Storage(config.s3!);
  return new LocalStorage({ root: config.mediaRoot, appDomain: config.appDomain, signer });
}

export { LocalStorage, S3Storage };
export type { StorageBackend };
