// bench/crc's worker: the contenders.
"use strict";
importScripts("wasm_exec.js");

let hashonlyBuf; // the window hashonly hashes, read once
let kernel; // the kernel module's exports, driven from JavaScript

const ready = (async () => {
  const go = new Go();
  const { instance } = await WebAssembly.instantiateStreaming(fetch("helper.wasm"), go.importObject);
  go.run(instance);
  const k = (await WebAssembly.instantiateStreaming(fetch("crc64.wasm"))).instance.exports;
  k.init();
  const buf = k.buf.value;
  kernel = { k, cap: k.memory.buffer.byteLength - buf, view: new Uint8Array(k.memory.buffer, buf) };
})();

function kernelJS(u) {
  const { k, cap, view } = kernel;
  k.set(0, 0);
  for (let i = 0; i < u.length; i += cap) {
    const m = Math.min(cap, u.length - i);
    view.set(m === u.length ? u : u.subarray(i, i + m));
    k.update(m);
  }
  return ((BigInt(k.hi() >>> 0) << 32n) | BigInt(k.lo() >>> 0)).toString();
}

// A BYOB read that makes no progress for this long has stalled (Chromium
// 156 stalled some for good in uploads once): it is abandoned, the window
// read again with arrayBuffer(), and counted.
const STALL_MS = 10000;

const stalled = Symbol("stalled");
const within = (p, ms) => {
  let timer;
  return Promise.race([p, new Promise((resolve) => (timer = setTimeout(() => resolve(stalled), ms)))]).finally(() => clearTimeout(timer));
};

// readBYOB reads blob into the ArrayBuffer slot.buf (at least blob.size
// bytes) through a BYOB reader on blob.stream(), so one buffer serves every
// window; slot.buf follows the buffer each read hands back. It returns a
// view of the window's bytes and whether the read stalled (then the bytes
// come from arrayBuffer()).
async function readBYOB(blob, slot) {
  const reader = blob.stream().getReader({ mode: "byob" });
  let off = 0;
  while (off < blob.size) {
    const r = await within(reader.read(new Uint8Array(slot.buf, off, slot.buf.byteLength - off)), STALL_MS);
    if (r === stalled) {
      reader.cancel().catch(() => {});
      // The stalled read keeps slot.buf (it was transferred to it): the
      // next window gets a new one.
      slot.buf = new ArrayBuffer(slot.buf.byteLength);
      return { u: new Uint8Array(await blob.arrayBuffer()), stall: true };
    }
    if (r.value) slot.buf = r.value.buffer; // also when done: the buffer passed in is detached
    if (r.done) break;
    off += r.value.byteLength;
  }
  if (off !== blob.size) throw new Error("BYOB read " + off + " of " + blob.size + " bytes");
  reader.releaseLock();
  return { u: new Uint8Array(slot.buf, 0, off), stall: false };
}

// byobContender hashes the windows with the kernel, reading them through
// BYOB readers into inFlight reused buffers, inFlight windows at a time
// (the engine has 4 parts in flight).
async function byobContender(m, inFlight) {
  try {
    new Blob([]).stream().getReader({ mode: "byob" }).releaseLock();
  } catch (e) {
    return { unsupported: String(e) }; // WebKit: a Blob's stream is not a byte stream
  }
  const crcs = new Array(m.windows.length);
  let stalls = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(inFlight, m.windows.length) }, async () => {
      const slot = { buf: new ArrayBuffer(m.window) };
      while (next < m.windows.length) {
        const j = next++;
        const i = m.windows[j];
        const { u, stall } = await readBYOB(m.blob.slice(i * m.window, Math.min((i + 1) * m.window, m.blob.size)), slot);
        if (stall) stalls++;
        crcs[j] = kernelJS(u);
      }
    }),
  );
  return { crcs, stalls };
}

const hashers = {
  read: () => "",
  "go-stdlib": (u) => goCRC.stdlib(u),
  "go-copy-kernel": (u) => goCRC.kernelBytes(u),
  "go-kernel": (u) => goCRC.kernel(u),
  "js-kernel": kernelJS,
};

onmessage = async ({ data: m }) => {
  try {
    await ready;
    if (m.op === "ready") return postMessage({ id: m.id });
    if (m.op === "hashonly") {
      const u = new Uint8Array(await (hashonlyBuf ||= m.blob.arrayBuffer()));
      const t0 = performance.now();
      for (let i = 0; i < m.times; i++) hashers[m.kind](u);
      return postMessage({ id: m.id, ms: performance.now() - t0 });
    }
    if (m.op === "js-kernel-byob" || m.op === "js-kernel-byob4") {
      return postMessage({ id: m.id, ...(await byobContender(m, m.op === "js-kernel-byob" ? 1 : 4)) });
    }
    const h = hashers[m.op];
    const crcs = [];
    for (const i of m.windows) {
      const ab = await m.blob.slice(i * m.window, Math.min((i + 1) * m.window, m.blob.size)).arrayBuffer();
      crcs.push(h(new Uint8Array(ab)));
    }
    postMessage({ id: m.id, crcs });
  } catch (e) {
    postMessage({ id: m.id, error: String((e && e.stack) || e) });
  }
};
