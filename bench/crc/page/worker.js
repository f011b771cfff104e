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
