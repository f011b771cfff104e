//go:build !js

package crckernel

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"hash/crc64"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// runKernel hashes each input with crc64.wasm in Node's V8, chunked through
// the module's buffer as Kernel.Update does, starting from the given CRC,
// and returns the CRCs.
func runKernel(t *testing.T, inputs [][]byte, start []uint64) []uint64 {
	t.Helper()
	type job struct {
		Data   string `json:"data"`
		Lo, Hi uint32
	}
	var jobs []job
	for i, in := range inputs {
		jobs = append(jobs, job{base64.StdEncoding.EncodeToString(in), uint32(start[i]), uint32(start[i] >> 32)})
	}
	dir := t.TempDir()
	js, _ := json.Marshal(jobs)
	if err := os.WriteFile(filepath.Join(dir, "jobs.json"), js, 0o644); err != nil {
		t.Fatal(err)
	}
	script := `
const fs = require("fs");
const k = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(process.argv[1]))).exports;
k.init();
const buf = k.buf.value, cap = k.memory.buffer.byteLength - buf;
const view = new Uint8Array(k.memory.buffer, buf, cap);
for (const j of JSON.parse(fs.readFileSync(process.argv[2]))) {
  const u = Buffer.from(j.data, "base64");
  k.set(j.Lo, j.Hi);
  for (let i = 0; i < u.length; i += cap) {
    const m = Math.min(cap, u.length - i);
    view.set(u.subarray(i, i + m));
    k.update(m);
  }
  console.log(((BigInt(k.hi() >>> 0) << 32n) | BigInt(k.lo() >>> 0)).toString());
}`
	out, err := exec.Command("node", "-e", script, "crc64.wasm", filepath.Join(dir, "jobs.json")).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got []uint64
	for _, l := range strings.Fields(string(out)) {
		v, err := strconv.ParseUint(l, 10, 64)
		if err != nil {
			t.Fatalf("node printed %q", out)
		}
		got = append(got, v)
	}
	return got
}

func TestKernelAgreesWithHashCRC64(t *testing.T) {
	tab := crc64.MakeTable(crc64.ECMA)
	inputs := [][]byte{nil, []byte("123456789"), bytes.Repeat([]byte{0xff}, 100)}
	rng := rand.New(rand.NewPCG(64, 16))
	for i := 0; i < 200; i++ {
		b := make([]byte, rng.IntN(4096))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		inputs = append(inputs, b)
	}
	// Longer than the module's buffer (about 1 MiB): hashed in pieces.
	big := make([]byte, 3<<20+7)
	for j := range big {
		big[j] = byte(rng.Uint32())
	}
	inputs = append(inputs, big)
	start := make([]uint64, len(inputs))
	for i := range start {
		if i > 2 && i%3 == 0 {
			start[i] = rng.Uint64()
		}
	}
	got := runKernel(t, inputs, start)
	if len(got) != len(inputs) {
		t.Fatalf("%d answers for %d inputs", len(got), len(inputs))
	}
	for i, in := range inputs {
		if want := crc64.Update(start[i], tab, in); got[i] != want {
			t.Fatalf("input %d (%d B, from %x): kernel %x, hash/crc64 %x", i, len(in), start[i], got[i], want)
		}
	}
	// OSS's documented check value of CRC-64/ECMA ("123456789").
	if got[1] != 0x995DC9BBDF1939FA {
		t.Fatalf("check value %x", got[1])
	}
}

// TestModuleBuiltFromSource: the committed crc64.wasm is what wat2wasm makes
// of crc64.wat.
func TestModuleBuiltFromSource(t *testing.T) {
	wat2wasm := filepath.Join("wabt", "node_modules", "wabt", "bin", "wat2wasm")
	if _, err := os.Stat(wat2wasm); err != nil {
		t.Fatalf("wabt is not installed (%v): run make deps (npm ci --prefix wasm/crckernel/wabt)", err)
	}
	out := filepath.Join(t.TempDir(), "crc64.wasm")
	if b, err := exec.Command("node", wat2wasm, "crc64.wat", "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm: %v\n%s", err, b)
	}
	fresh, _ := os.ReadFile(out)
	committed, _ := os.ReadFile("crc64.wasm")
	if !bytes.Equal(fresh, committed) {
		t.Fatal("crc64.wasm is stale: run go generate ./wasm/crckernel")
	}
}
