import { readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUrlSigner } from '../../src/core/signing.js';
import { LocalStorage } from '../../src/core/storage/local.js';
import { storageSuite } from './storage.shared.js';

storageSuite('local', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'chute-storage-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const storage = new LocalStorage({ root, appDomain: 'http://chute.test', signer: createUrlSigner('test-secret') });
  return {
    storage,
    // what the /media route does: check the signature, then read the file
    async download(url) {
      const parsed = new URL(url);
      const key = decodeURIComponent(parsed.pathname.replace(/^\/media\//, ''));
      if (!storage.verifyDownload(key, Number(parsed.searchParams.get('expires')), parsed.searchParams.get('signature') ?? '')) {
        throw new Error('signature refused');
      }
      return readFile(storage.pathOf(key));
    },
  };
});
