// Type declarations for ossup.js.

export interface UploaderOptions {
  /** Origin of the signing backend (default: the page's origin); its API is under /api/v1. */
  backend?: string;
  /** Headers sent to the backend, e.g. { Authorization: "Bearer ..." }. */
  headers?: Record<string, string>;
  /** Parts in flight per upload (default: the backend's suggestion). */
  concurrency?: number;
  /** Bytes in flight across all uploads (default 64 MiB). */
  maxBytesInFlight?: number;
  /** URLs of the worker, the engine and Go's wasm_exec.js (default: next to ossup.js). */
  assets?: { worker?: string; engine?: string; glue?: string };
}

export type UploadState =
  | "queued" | "checking" | "uploading" | "paused" | "completing" | "done" | "failed" | "canceled";

export interface UploadProgress {
  kind: "state" | "progress" | "retry" | "error";
  state: UploadState;
  /** Bytes in parts OSS acknowledged with a matching CRC-64. */
  bytesConfirmed: number;
  /** Bytes handed to the network in requests still in flight. */
  bytesSending: number;
  total: number;
  bytesPerSec: number;
  etaSeconds: number;
  error?: UploadErrorInfo;
  result?: UploadResult;
}

export interface UploadErrorInfo {
  message: string;
  /** The OSS or backend error code, e.g. "AccessDenied", or "CORSExposeHeaders", "locked". */
  code?: string;
  /** The failing operation, e.g. "UploadPart". */
  op?: string;
  /** The OSS or backend request id, to quote to support. */
  requestId?: string;
  attempts?: number;
  /** What to check to fix it, when the engine can tell: e.g. for a NetworkError on a kind of request that never got an answer, the bucket CORS rule that may refuse it. */
  hint?: string;
}

export interface UploadResult {
  bucket: string;
  key: string;
  size: number;
  /** CRC-64/ECMA of the object, unsigned decimal. */
  crc64: string;
  etag: string;
}

export interface PendingUpload {
  /** The checkpoint's id (derived from the file's name, size, lastModified and type). */
  id: string;
  /** The file's handle, when it was uploaded from one (Chromium): resume(entry) needs no re-pick. */
  handle?: FileSystemFileHandle;
  name: string;
  size: number;
  type: string;
  lastModified: number;
  key: string;
  bytesDone: number;
  /** Milliseconds since the epoch. */
  updated: number;
}

export interface UploadHandle extends EventTarget {
  readonly id: string;
  /** The file being uploaded (set once a handle has been read). */
  readonly file: File;
  readonly state: UploadState;
  readonly progress: UploadProgress;
  /** Resolves when the object exists and the backend verified it; rejects on failure or cancel. */
  readonly done: Promise<UploadResult>;
  pause(): void;
  resume(): void;
  /** Aborts requests in flight, aborts the upload at OSS and removes its checkpoint. */
  cancel(): Promise<void>;
}

export interface Uploader {
  /** Resolves with the engine version once the worker has loaded it and the backend accepted the credentials. */
  readonly ready: Promise<string>;
  /** Who the backend says the uploads belong to. */
  readonly user: Promise<{ user: string; dev: boolean; auth: "dev" | "token" | "jwt" }>;
  /** Uploads a File or a FileSystemFileHandle; resumes when a checkpoint matches. */
  upload(file: File | FileSystemFileHandle): UploadHandle;
  /**
   * Continues a pending upload: from its kept handle without a re-pick (the browser may ask for read
   * permission, so call it from a user gesture), or from a re-picked File matched by identity and fingerprint.
   */
  resume(entry: PendingUpload | File): UploadHandle;
  pending(): Promise<PendingUpload[]>;
  terminate(): void;
}

export function createUploader(options?: UploaderOptions): Uploader;
