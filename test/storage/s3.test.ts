import { S3Storage } from '../../src/core/storage/s3.js';
import { defer, freshBucket, s3Settings } from '../helpers.js';
import { storageSuite } from './storage.shared.js';

storageSuite('s3 (RGW)', async (t) => {
  const settings = s3Settings();
  const bucket = await freshBucket(t);
  const storage = new S3Storage({
    ...settings,
    bucket,
    endpoint: settings.endpoint,
    defaultAcl: 'private',
    presignedExpiry: 60,
    customDomain: null,
  });
  defer(t, () => storage.client.destroy());
  return {
    storage,
    async download(url) {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`download failed: ${response.status} ${await response.text()}`);
      return Buffer.from(await response.arrayBuffer());
    },
    async sendPart(signed, body) {
      const response = await fetch(signed.url, { method: signed.method, headers: signed.headers, body });
      if (!response.ok) return null;
      return response.headers.get('etag');
    },
  };
});
