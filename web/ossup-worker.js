// ossup Web Worker glue: loads Go's wasm_exec.js (copied from the toolchain
// that built the engine, so their versions match) and the engine, off the
// page's UI thread. The page passes the hashed URLs of both in the query.
'use strict';

const params = new URL(self.location.href).searchParams;
importScripts(params.get('glue'));

(async () => {
  try {
    const go = new Go();
    const { instance } = await WebAssembly.instantiateStreaming(fetch(params.get('engine')), go.importObject);
    // main() runs until it blocks, so what it publishes is there when run
    // yields; the returned promise only settles if the engine exits.
    go.run(instance).then(() => postMessage({ type: 'exit' }));
    postMessage({ type: 'ready', version: self.ossupEngineVersion });
  } catch (e) {
    postMessage({ type: 'error', message: String(e && e.message || e) });
  }
})();
