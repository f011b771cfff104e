// Type declarations for ossup.js. The messages between ossup.js, its worker and the engine, the event kinds and
// the error and warning codes are declared once in protocol.json (checked against the code by
// web/protocol_test.go).

export interface UploaderOptions {
  /** Origin of the signing backend (default: the page's origin); its API is under /api/v1. */
  backend?: string;
  /**
   * Headers sent to the backend, e.g. { Authorization: "Bearer ..." }; or a function (possibly async) returning
   * them, called before every backend call (so return a cached token until it nears expiry) and once more after a
   * 401 before anything fails. A call that throws keeps the last headers. When no valid headers can be had, uploads
   * wait in state "unauthenticated" (nothing lost) until the function answers other headers or setHeaders is called.
   */
  headers?: HeadersInit | (() => HeadersInit | Promise<HeadersInit>);
  /**
   * Whether backend calls carry the browser's cookies when the backend is on another origin. "auto" (default): only
   * when the backend's authentication needs them (dev mode's identity cookie); "include": always (the backend must
   * name this page's origin in OSSUP_CORS_ORIGINS, not "*"); "omit": never. OSS requests never carry cookies.
   */
  credentials?: "auto" | "include" | "omit";
  /** Parts in flight per upload (default: the backend's suggestion). */
  concurrency?: number;
  /** Bytes in flight across all uploads (default 64 MiB). */
  maxBytesInFlight?: number;
  /**
   * How long a request's transient failures (5xx, 429, timeouts, network failures on routes that answered before)
   * are retried before the upload fails, in seconds; time offline does not count (default 120).
   */
  patienceSeconds?: number;
  /**
   * Testing only: moves the engine's clock by this many milliseconds, as a browser clock that far off would. (The
   * engine runs on the backend's clock, learnt from the serverTime of its answers.)
   */
  testClockOffsetMs?: number;
  /**
   * URLs of the worker, the engine and Go's wasm_exec.js (default: next to ossup.js), relative to the page. They may
   * be on another origin (a CDN, the backend): the worker is then started from a same-origin blob: bootstrap (allow
   * worker-src blob: in a Content-Security-Policy) and the engine must be served with CORS.
   */
  assets?: { worker?: string; engine?: string; glue?: string };
}

export type UploadState =
  | "queued" | "checking" | "uploading" | "paused"
  /** The backend refused the headers (401) and no others could be had: waiting for new ones, nothing lost. */
  | "unauthenticated"
  | "completing" | "done" | "failed" | "canceled";

/**
 * The codes of a failed upload's error (besides OSS's and the backend's own, e.g. "AccessDenied"):
 * - "engine_crashed": the engine worker stopped (the Go program exited, or an exception nothing caught); every open
 *   upload fails with it at once, later calls too; create a new uploader: it resumes them from their checkpoints.
 * - "already_uploading": the same file is already uploading in this uploader.
 * - "locked": another tab or window drives this upload (it holds its Web Lock).
 * - "file_needed": resume() of a pending entry without a kept file handle: pick the file again (or discard it).
 * - "not_a_file": upload() was given something that is not a File or FileSystemFileHandle.
 * - "repick_needed": the kept file handle can no longer be read: pick the file again.
 * - "permission_denied": the browser did not grant read permission for the kept handle.
 * - "js_exception": a JavaScript exception inside the engine (a browser API refusing a call) failed this upload.
 * - "storage_unavailable": (pending(), discard()) IndexedDB is blocked by another tab, closed, or did not answer in time.
 * - "not_configured", "timeout": the engine got an upload before its configuration; a call outlived its deadline.
 * - "canceled": done rejects with it after cancel().
 * - "too_late": cancel() once the object is stored (state completing): the upload goes on to be verified and ends
 *   done; nobody is told "canceled" while the object stays.
 * - "engine_error": a bug or an unexpected panic inside the engine failed this upload alone.
 * - "lock_failed", "storage_timeout": the upload's Web Lock could not be taken; the checkpoint storage did not answer
 *   in time.
 * - "backend_not_found", "not_ossup_backend", "credentials_refused", "unauthenticated", "engine_failed",
 *   "backend_refused": see Uploader.ready (an upload started after ready rejected fails with the same code).
 * - "CORSExposeHeaders", "NetworkError", "InconsistentCRC": see the README.
 */
export type UploadErrorCode =
  | "engine_crashed" | "already_uploading" | "locked" | "file_needed" | "not_a_file" | "repick_needed"
  | "permission_denied" | "js_exception" | "storage_unavailable" | "not_configured" | "timeout" | "canceled"
  | "backend_not_found" | "not_ossup_backend" | "credentials_refused" | "unauthenticated" | "engine_failed"
  | "backend_refused" | "too_late" | "engine_error" | "lock_failed" | "storage_timeout"
  | "CORSExposeHeaders" | "NetworkError" | "InconsistentCRC" | (string & {});

/**
 * A warning event: something that costs a feature, never the upload, which goes on. Codes:
 * - "no_web_locks": no Web Locks here (an insecure http origin, Safari before 15.4): the upload is not guarded
 *   against the same file uploading in another tab;
 * - "storage_unavailable": checkpoints cannot be saved or read (IndexedDB blocked by a tab of an older deploy,
 *   closed for a newer one, or too slow): the upload cannot resume after a reload;
 * - "handle_not_kept": the file handle could not be kept: a reload needs a re-pick;
 * - "checkpoint_newer": this file's checkpoint was written by a newer version of the uploader (a rollback): it is
 *   left alone for that version, and this upload runs without resume.
 * A warning never changes the handle's state or progress.
 */
export interface UploadWarning {
  code: "no_web_locks" | "storage_unavailable" | "handle_not_kept" | "checkpoint_newer" | (string & {});
  message: string;
}

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
  /** The OSS or backend error code, e.g. "AccessDenied", or one of ours (UploadErrorCode). */
  code?: UploadErrorCode;
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

/** What upload() may be told besides the file. */
export interface UploadOptions {
  /**
   * The file's path below a picked (webkitdirectory) or dropped folder, ending with its name, e.g.
   * "photos/2024/a.jpg" (File.webkitRelativePath). The backend checks it (no "..", no absolute paths, control and
   * bidi characters neutralised) and may put its folders in the key ({path} of OSSUP_KEY_TEMPLATE). Part of the
   * file's identity: the same file in two folders is two uploads.
   */
  relativePath?: string;
  /**
   * Application metadata, e.g. { albumId: "a-17" }: string values the backend accepts only for the fields
   * OSSUP_META_FIELDS names (UTF-8 text such as a Chinese title, at most 512 bytes each), stores as x-oss-meta-*
   * on the object (non-ASCII values RFC 2047-encoded) and returns as given from complete and in the webhook. Not kept for a resume after a reload: the session already has it.
   */
  meta?: Record<string, string>;
}

export interface PendingUpload {
  /** The checkpoint's id (derived from the file's name, size, lastModified and type). */
  id: string;
  /** The file's handle, when it was uploaded from one (Chromium): resume(entry) needs no re-pick. */
  handle?: FileSystemFileHandle;
  name: string;
  /** The relativePath it was uploaded with, if any. */
  path?: string;
  size: number;
  type: string;
  lastModified: number;
  key: string;
  bytesDone: number;
  /** Milliseconds since the epoch. */
  updated: number;
  /**
   * The object is stored on OSS and only the backend's verification is left (it survived an outage, a reload or a
   * restart): resume(entry) finishes it without the file, sending no data.
   */
  verifyOnly?: boolean;
  /** The checkpoint cannot be resumed (reason says why): picking the file again starts afresh; discard aborts it. */
  damaged?: boolean;
  reason?: string;
}

/**
 * Events of an UploadHandle (CustomEvents; detail as below): "state" and "progress" and "retry" (UploadProgress),
 * "warning" (UploadWarning, kind "warning" in protocol.json), "error" (an Error with UploadErrorInfo's fields),
 * "done" (UploadResult). A handle dispatches nothing after done, error or canceled, and the uploader lets it go then.
 */
export interface UploadHandle extends EventTarget {
  readonly id: string;
  /** The file being uploaded (set once a handle has been read). */
  readonly file: File;
  readonly state: UploadState;
  readonly progress: UploadProgress;
  /** Resolves when the object exists and the backend verified it; rejects on failure or cancel. */
  readonly done: Promise<UploadResult>;
  /** Pauses; called before the worker has the upload (right after upload()), it applies when it does. */
  pause(): void;
  resume(): void;
  /**
   * Aborts requests in flight, aborts the upload at OSS and removes its checkpoint, also when called right after
   * upload(). On a failed upload it discards what the failure left (checkpoint, multipart upload); after done it
   * does nothing.
   */
  cancel(): Promise<void>;
}

export interface Uploader {
  /**
   * Resolves with the engine version once the worker has loaded it and the backend accepted the credentials. A backend
   * that does not answer (down, deploying, 5xx, 429) is retried with backoff for as long as it takes; ready rejects
   * only for what no retry fixes, with a code: "backend_not_found" (no ossup API at that URL), "not_ossup_backend",
   * "credentials_refused" (a dev backend on another origin allowing "*", which refuses cookies), "unauthenticated"
   * (401: uploads wait for new headers), "engine_failed" (the worker or engine did not load), "backend_refused" or
   * the backend's own code (another 4xx). After a rejection the next upload asks the backend again.
   */
  readonly ready: Promise<string>;
  /** Who the backend says the uploads belong to (asked again after a failure). */
  readonly user: Promise<{ user: string; dev: boolean; auth: "dev" | "token" | "jwt"; serverTime: string }>;
  /**
   * Replaces the headers of every later backend call (an object, or a function as in UploaderOptions.headers);
   * uploads waiting in state "unauthenticated" continue with them.
   */
  setHeaders(headers: HeadersInit | (() => HeadersInit | Promise<HeadersInit>)): void;
  /** Uploads a File or a FileSystemFileHandle; resumes when a checkpoint matches. */
  upload(file: File | FileSystemFileHandle, options?: UploadOptions): UploadHandle;
  /**
   * Continues a pending upload: from its kept handle without a re-pick (the browser may ask for read
   * permission, so call it from a user gesture), or from a re-picked File matched by identity and fingerprint. An
   * entry without a kept handle cannot be resumed without its file: the handle fails with file_needed.
   */
  resume(entry: PendingUpload | File, options?: UploadOptions): UploadHandle;
  /** The uploads that can be resumed. Rejects with code storage_unavailable when IndexedDB cannot answer. */
  pending(): Promise<PendingUpload[]>;
  /**
   * Abandons a pending upload without its file: the backend aborts its multipart upload; its checkpoint and kept
   * handle are deleted. Rejects with already_uploading if it runs in this uploader (cancel its handle), locked if
   * another tab drives it.
   */
  discard(entry: PendingUpload): Promise<void>;
  terminate(): void;
}

export function createUploader(options?: UploaderOptions): Uploader;

// The drop-in widget, <ossup-uploader> (module ossup/ossup-uploader.js, which defines the element on import).

/** The widget's words; every field may be overridden (a partial object is merged over the language's). */
export interface OssupUploaderStrings {
  drop: string; pickFiles: string; pickFolder: string;
  pause: string; resume: string; cancel: string; retry: string; remove: string; open: string;
  /** "{action} {name}": the accessible name of a row's buttons. */
  actionOn: string; progressOf: string; totalLabel: string;
  /** "{done} of {count} uploaded · {percent}%". */
  total: string; sizeOf: string; speed: string; left: string; seconds: string; minutes: string; hours: string;
  /** What the live region says on a state change: "{name}: {state}". */
  announce: string; repick: string; requestId: string; folder: string;
  states: Record<UploadState | "resumable", string>;
  /** Plain words per error code ({message} is the engine's); fallback for the others. */
  errors: Record<string, string> & { fallback: string };
}

/** The detail of the widget's events (they bubble and cross the shadow boundary). */
export interface OssupUploaderEventMap {
  "ossup-add": CustomEvent<{ file: File | FileSystemFileHandle; path: string; handle: UploadHandle }>;
  "ossup-done": CustomEvent<{ file: File; path: string; result: UploadResult; url: string }>;
  "ossup-error": CustomEvent<{ file: File; path: string; error: Error & UploadErrorInfo }>;
}
