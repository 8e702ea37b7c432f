// The upload core's context built from the configuration: shared by the server (src/http/app.ts)
// and the CLI commands that act on files.
import type { Config } from '../config.js';
import type { FilesContext, UploadPolicy } from '../core/files/services.js';
import { getOrCreateSigningSecret } from '../core/secrets.js';
import { createUrlSigner } from '../core/signing.js';
import { createStorage } from '../core/storage/index.js';
import type { Db } from '../db/index.js';

export const uploadPolicyOf = (config: Config): UploadPolicy => ({
  maxSize: config.fileMaxSizeDirect,
  standardMaxSize: config.fileMaxSizeStandard,
  allowedTypes: config.fileAllowedTypes,
  verifyContent: config.fileVerifyContent,
  presignedExpiry: config.presignedExpiry,
  urlExpiry: config.urlExpiry,
});

/** For the CLI: a migrated database is expected (the signing secret lives in it). */
export async function filesContextOf(config: Config, db: Db): Promise<FilesContext> {
  const secret = config.secretKey ?? (await getOrCreateSigningSecret(db));
  return { db, storage: createStorage(config, createUrlSigner(secret)), policy: uploadPolicyOf(config) };
}
