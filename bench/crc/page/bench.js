// bench/crc's page: it makes a Blob of random bytes and has workers hash it
// window by window, each contender in turn, round by round.
"use strict";

const WINDOW = 8 << 20; // the engine's read window

async function makeBlob(mib) {
  const parts = [];
  for (let i = 0; i < mib; i++) {
    const b = new Uint8Array(1 << 20);
    for (let j = 0; j < b.length; j += 65536) crypto.getRandomValues(b.subarray(j, j + 65536));
    parts.push(b);
  }
  return new Blob(parts);
}

function startWorker() {
  const w = new Worker("worker.js");
  let next = 0;
  const pending = new Map();
  w.onmessage = ({ data }) => {
    const p = pending.get(data.id);
    pending.delete(data.id);
    if (data.error) p.reject(new Error(data.error));
    else p.resolve(data);
  };
  w.onerror = (e) => {
    for (const p of pending.values()) p.reject(new Error("worker: " + e.message + " at " + e.filename + ":" + e.lineno));
  };
  return {
    call(msg) {
      const id = ++next;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        w.postMessage({ ...msg, id });
      });
    },
    terminate: () => w.terminate(),
  };
}

// runBench measures every contender rounds times, alternating, and returns
// per contender the wall times (ms) and the per-window CRCs of its last run.
async function runBench(mib, rounds, contenders) {
  const blob = await makeBlob(mib);
  const windows = Math.ceil(blob.size / WINDOW);
  const workers = [startWorker(), startWorker()];
  await Promise.all(workers.map((w) => w.call({ op: "ready" })));
  const out = {};
  for (let r = 0; r < rounds; r++) {
    for (const c of contenders) {
      const par = c.endsWith("-x2") ? 2 : 1;
      const kind = c.replace(/-x2$/, "");
      const t0 = performance.now();
      const crcs = new Array(windows);
      let stalls = 0;
      await Promise.all(
        workers.slice(0, par).map(async (w, wi) => {
          const mine = [];
          for (let i = wi; i < windows; i += par) mine.push(i);
          const res = await w.call({ op: kind, blob, windows: mine, window: WINDOW });
          if (res.unsupported) return void ((out[c] ||= { ms: [], crcs: null, stalls: [] }).unsupported = res.unsupported);
          res.crcs.forEach((v, j) => (crcs[mine[j]] = v));
          stalls += res.stalls || 0;
        }),
      );
      const ms = performance.now() - t0;
      (out[c] ||= { ms: [], crcs: null, stalls: [] }).ms.push(ms);
      out[c].stalls.push(stalls);
      out[c].crcs = crcs;
    }
  }
  // Hash only, no read: one 8 MiB window hashed twice by each contender in
  // turn, 4 × rounds times, in the first worker; times per turn, so that
  // ratios can be taken turn by turn (paired) on a machine whose load drifts.
  // The BYOB contenders hash as js-kernel does: only their reads differ.
  const hashers = contenders.filter((c) => !c.endsWith("-x2") && c !== "read" && !c.includes("byob"));
  const first = blob.slice(0, WINDOW);
  for (let r = 0; r < 4 * rounds; r++) {
    for (const c of hashers) {
      const res = await workers[0].call({ op: "hashonly", kind: c, blob: first, times: 2 });
      (out[c].hashMS ||= []).push(res.ms);
    }
  }
  out.hashBytes = 2 * WINDOW;
  workers.forEach((w) => w.terminate());
  const hashBytes = out.hashBytes;
  delete out.hashBytes;
  return { bytes: blob.size, hashBytes, cores: navigator.hardwareConcurrency, agent: navigator.userAgent, results: out };
}
