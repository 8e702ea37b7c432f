export { uploadFile, uploadFiles } from './upload.js';
export { uploadMultipart, planParts, defaultPartSize, MULTIPART_THRESHOLD } from './multipart.js';
export type { PlannedPart } from './multipart.js';
export { UploadControl } from './control.js';
export { memoryResumeStore, defaultResumeStore, fingerprint } from './resume.js';
export type { ResumeEntry, ResumeStore } from './resume.js';
export { backoff, isRetryable } from './retry.js';
export type { RetryInfo } from './retry.js';
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
  Checksums,
  ChecksumsFactory,
  ChuteOptions,
  ApiAnswer,
  ApiPaths,
  DirectUploadTarget,
  FilePage,
  FileRecord,
  LoginResult,
  MultipartOptions,
  MultipartTarget,
  ResumeInfo,
  UploadOptions,
  UploadPhase,
  UploadProgress,
  User,
} from './types.js';
