export { uploadFile, uploadFiles } from './upload.js';
export type { UploadFilesOptions, UploadItem, UploadResult, UploadPhaseListener } from './upload.js';
export { apiRequest, login, logout, getMe, listFiles, getFile, deleteFile } from './api.js';
export type { RequestOptions } from './api.js';
export { createLimiter } from './limit.js';
export type { Limiter } from './limit.js';
export { parseStorageError } from './s3.js';
export type { ParsedStorageError } from './s3.js';
export {
  ChuteError,
  ChuteApiError,
  StorageError,
  StorageUnreachableError,
  NetworkError,
  AbortError,
  isChuteError,
} from './errors.js';
export type { ChuteErrorKind } from './errors.js';
export type {
  ChuteOptions,
  DirectUploadTarget,
  FilePage,
  FileRecord,
  LoginResult,
  UploadOptions,
  UploadPhase,
  UploadProgress,
  User,
} from './types.js';
