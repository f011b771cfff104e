// Type declarations for ossup-uploader.js: <ossup-uploader>, the drop-in widget.
import type { Uploader, UploaderOptions, UploadResult, OssupUploaderStrings, OssupUploaderEventMap } from "./ossup.js";

/**
 * <ossup-uploader backend="https://uploads.example.com" object-url="https://cdn.example.com/{key}" lang="zh-CN">
 * Themed with CSS custom properties (--ossup-accent, --ossup-radius, --ossup-border, --ossup-background,
 * --ossup-track, --ossup-error, --ossup-done, --ossup-focus, --ossup-muted, --ossup-font, --ossup-color,
 * --ossup-button-background, --ossup-drop-over) and parts: dropzone, hint, button, pick-files, pick-folder,
 * total, total-progress, total-bar, total-text, list, group, item, thumbnail, name, size, progress, bar,
 * state, detail, error, link, key, actions, pause, resume, cancel, retry, remove.
 */
export declare class OssupUploader extends HTMLElement {
  /** The Uploader in use; set one (e.g. with auth headers) before or after connecting. */
  uploader: Uploader | null;
  /** createUploader options used when the widget creates its own uploader (backend comes from the attribute). */
  options: UploaderOptions;
  /** The link of a finished object; overrides the object-url attribute ({key}, {bucket}). */
  objectUrl: ((result: UploadResult) => string) | null;
  /** Application metadata for each upload (fields the backend's OSSUP_META_FIELDS allows): an object, or a function of the file. */
  meta: Record<string, string> | ((f: { file: File | FileSystemFileHandle; path: string }) => Record<string, string> | null) | null;
  /** The strings in use; assign a partial object to override some. */
  strings: OssupUploaderStrings;
  /** "en" or "zh-CN", from the lang attribute or navigator.language (every zh-* tag reads Simplified Chinese). */
  readonly language: "en" | "zh-CN";
  /** Uploads Files, FileSystemFileHandles, or { file, path } with the path relative to a picked or dropped folder. */
  addFiles(files: Iterable<File | FileSystemFileHandle | { file: File; path: string }>): void;
  addEventListener<K extends keyof OssupUploaderEventMap>(type: K, listener: (ev: OssupUploaderEventMap[K]) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
}

declare global {
  interface HTMLElementTagNameMap {
    "ossup-uploader": OssupUploader;
  }
}
