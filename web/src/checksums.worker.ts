// A Web Worker that reads and hashes the parts of multipart uploads (MD5 each, SHA-256 of all) with
// hash-wasm, off the page's thread. Started by workerChecksums in uploads.ts, one per upload.
import { exposeChecksums } from '@chute/client/checksums';

exposeChecksums();
