// The Cloudflare Workers entry of the ossup backend: it runs the Go program
// (cmd/worker, built to app.wasm) and hands it the requests.
//
// A Go instance is started once and serves many requests, one at a time.
// syumai/workers v0.33.0, used before, starts a new instance for every
// request, which costs more than the free plan's 10 ms of CPU before the
// request is even looked at. One at a time, because workerd ties every I/O
// (a fetch, the promise of an answer) to the request whose event is running
// when it starts, and a Go instance runs all its goroutines on one thread,
// whichever request's event woke it (a timer set during one request can
// wake another's goroutine): in a shared instance one request's STS or OSS
// call could belong to another request and be cancelled with it, when its
// client goes away. Requests that arrive together get instances of their
// own, up to MAX_INSTANCES per isolate; an instance that exited, or overran
// its deadline, is dropped, and the next request starts a fresh one.
//
// The Go side is cmd/worker/glue (glue.go says how an instance
// registers, bridge.go what crosses between the two); cmd/worker is the
// program.
import "./wasm_exec.js";
import mod from "./app.wasm";

// MAX_INSTANCES bounds the Go instances of one isolate: each holds its own
// linear memory (13 MiB, flat over 1000 create-session calls), and the
// isolate has 128 MiB. A request that finds them all busy waits for one, at most QUEUE_MS.
const MAX_INSTANCES = 4;
const QUEUE_MS = 10_000;
// DEADLINE_MS bounds one request in Go. The API's own deadline is 30 s
// (Echo's ContextTimeout); this one catches what never answers.
const DEADLINE_MS = 60_000;
// BODY_CAP is how much of a request body is read before Go sees it: more
// than any endpoint accepts (16 KiB, Echo's BodyLimit), so that a cut body
// is still refused with 413, never taken for a shorter one.
const BODY_CAP = 64 << 10;
// ANSWER_CAP bounds an outbound call's answer: more than the largest one
// read (a JWKS document, at most 1 MiB in userauth).
const ANSWER_CAP = 2 << 20;

class Instance {
  constructor(env) {
    const go = new Go();
    this.dead = false;
    this.serve = null;
    // onExit rejects the request in progress. The exit is seen through
    // go.exit, which the program calls as it exits, in the request it is
    // serving: not through go.run's promise, which belongs to the request
    // that started the instance, and workerd never settles a promise in
    // another request ("This promise was created by a request that has
    // since ended").
    this.onExit = null;
    go.exit = (code) => {
      this.dead = true;
      if (this.onExit) this.onExit(new Error(`the Go program exited with status ${code}`));
    };
    globalThis.ossupBoot = {
      env,
      fetch: outbound,
      register: (serve) => {
        this.serve = serve;
      },
    };
    try {
      // go.run runs the program until it first waits, which is after main
      // registered.
      go.run(new WebAssembly.Instance(mod, go.importObject));
    } finally {
      delete globalThis.ossupBoot;
    }
    if (!this.serve) {
      this.dead = true;
      throw new Error("the Go program did not register");
    }
  }

  // handle runs one request in Go: it resolves with the Response, or
  // rejects if the instance exited or overran DEADLINE_MS (it is then dead).
  async handle(request, body) {
    let timer;
    const answer = new Promise((resolve, reject) => {
      this.onExit = reject;
      timer = setTimeout(() => {
        this.dead = true;
        reject(new Timeout(`no answer from Go within ${DEADLINE_MS} ms`));
      }, DEADLINE_MS);
      this.serve(request.method, request.url, headerLines(request.headers), body, (status, headers, data) =>
        resolve({ status, headers, data }),
      );
    });
    try {
      const a = await answer;
      return new Response(a.data, { status: a.status, headers: parseHeaders(a.headers) });
    } finally {
      clearTimeout(timer);
      this.onExit = null;
    }
  }
}

// The pool of one isolate.
const idle = [];
const waiting = [];
let live = 0;

async function acquire(env) {
  while (idle.length > 0) {
    const inst = idle.pop();
    if (!inst.dead) return inst;
    live--;
  }
  if (live < MAX_INSTANCES) {
    live++;
    try {
      return new Instance(env);
    } catch (e) {
      live--;
      throw e;
    }
  }
  return new Promise((resolve, reject) => {
    const w = { resolve, reject, env };
    w.timer = setTimeout(() => {
      waiting.splice(waiting.indexOf(w), 1);
      reject(new Busy());
    }, QUEUE_MS);
    waiting.push(w);
  });
}

function release(inst) {
  if (inst.dead) {
    live--;
    const w = waiting.shift();
    if (w) {
      clearTimeout(w.timer);
      acquire(w.env).then(w.resolve, w.reject);
    }
    return;
  }
  const w = waiting.shift();
  if (w) {
    clearTimeout(w.timer);
    w.resolve(inst);
  } else {
    idle.push(inst);
  }
}

class Busy extends Error {}
class Timeout extends Error {}

function failure(status, code, message) {
  return new Response(JSON.stringify({ error: { code, message } }) + "\n", {
    status,
    headers: { "Content-Type": "application/json", ...(status === 503 ? { "Retry-After": "1" } : {}) },
  });
}

// outbound is the Go program's fetch (cmd/worker/glue/fetch.go).
function outbound(method, url, headers, body, done) {
  const ac = new AbortController();
  (async () => {
    const init = { method, headers: parseHeaders(headers), redirect: "manual", signal: ac.signal };
    if (body !== null) init.body = body;
    const resp = await fetch(url, init);
    let data = null;
    if (resp.body !== null) {
      const b = await readCapped(resp.body, ANSWER_CAP);
      if (b.cut) throw new Error(`the answer of ${method} ${new URL(url).host} is over ${ANSWER_CAP} bytes`);
      data = b.bytes;
    }
    return [resp.status, headerLines(resp.headers), data, ""];
  })().then(
    (a) => done(...a),
    (e) => done(0, "", null, String((e && e.message) || e)),
  );
  return () => ac.abort();
}

// readCapped reads a stream whole, up to cap bytes and one more (cut tells
// whether there was more).
async function readCapped(stream, cap) {
  const reader = stream.getReader();
  const chunks = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    n += value.byteLength;
    if (n > cap) {
      await reader.cancel();
      break;
    }
  }
  const bytes = chunks.length === 1 ? chunks[0] : new Uint8Array(n);
  if (chunks.length !== 1) {
    let off = 0;
    for (const c of chunks) {
      bytes.set(c, off);
      off += c.byteLength;
    }
  }
  return { bytes: n > cap ? bytes.subarray(0, cap + 1) : bytes, cut: n > cap };
}

// Headers cross to Go as lines: name, value, name, value... (a header value
// holds no newline).
function headerLines(headers) {
  let s = "";
  for (const [name, value] of headers) s += name + "\n" + value + "\n";
  return s;
}

function parseHeaders(lines) {
  const h = new Headers();
  const f = lines.split("\n");
  for (let i = 0; i + 1 < f.length; i += 2) h.append(f[i], f[i + 1]);
  return h;
}

export default {
  async fetch(request, env) {
    // The body is read before an instance is taken, so that a slow client
    // holds none.
    let body = null;
    if (request.body !== null) {
      try {
        body = (await readCapped(request.body, BODY_CAP)).bytes;
      } catch (e) {
        return failure(400, "bad_request", "the request body could not be read");
      }
    }
    let inst;
    try {
      inst = await acquire(env);
    } catch (e) {
      if (e instanceof Busy) return failure(503, "busy", "the worker is busy; try again");
      console.error("ossup worker: cannot start the Go program:", e);
      return failure(500, "internal", "the worker cannot start; see its log");
    }
    try {
      return await inst.handle(request, body);
    } catch (e) {
      console.error("ossup worker:", e);
      if (e instanceof Timeout) return failure(504, "timeout", "the worker did not answer in time");
      return failure(500, "internal", "internal error");
    } finally {
      release(inst);
    }
  },
};
