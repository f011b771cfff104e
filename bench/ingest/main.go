// Command ingest measures how fast the local OSS endpoint takes in an upload
// from the official OSS SDK's Uploader, next to the floor and ceiling of the
// same machine: one plain HTTP PUT of the same bytes to a minimal loopback
// server that writes them to a file and fsyncs (transport plus disk), and
// one that discards them (transport only).
//
// Contenders run interleaved (A B C A B C ...) so that drift on a shared
// machine spreads over all of them. The SDK's object is checked against the
// source file's CRC64 after every run, so a fast but wrong upload fails the
// benchmark instead of winning it.
//
//	go run ./bench/ingest -size-mib 256 -runs 3 [-json result.json] [-dir /tmp] [-cpuprofile cpu.out]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"
)

// contender is one way of moving the file's bytes to loopback storage.
type contender struct {
	Key, Name string
	// run transfers the whole file once and returns the time it took.
	run   func(ctx context.Context, run int) (time.Duration, error)
	close func() error
}

func main() {
	sizeMiB := flag.Int("size-mib", 256, "size of the uploaded file in MiB")
	runs := flag.Int("runs", 3, "measured runs per contender")
	warmup := flag.Int("warmup", 1, "unmeasured rounds of every contender before the measured ones")
	jsonPath := flag.String("json", "", "also write the results as JSON to this file")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the measured runs (all contenders) to this file")
	parent := flag.String("dir", "", "directory for the temporary files (default: the system temp dir); the file, the local cloud's data and the raw PUT's output share it")
	flag.Parse()
	if *sizeMiB < 1 || *runs < 1 || *warmup < 0 {
		fmt.Fprintln(os.Stderr, "ingest: -size-mib and -runs must be at least 1, -warmup at least 0")
		os.Exit(2)
	}
	if err := bench(*sizeMiB, *runs, *warmup, *jsonPath, *cpuProfile, *parent); err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
}

func bench(sizeMiB, runs, warmup int, jsonPath, cpuProfile, parent string) (err error) {
	dir, err := os.MkdirTemp(parent, "ossup-bench-ingest-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)

	size := int64(sizeMiB) << 20
	src := filepath.Join(dir, "source.bin")
	fmt.Fprintf(os.Stderr, "generating %d MiB of pseudo-random data in %s\n", sizeMiB, dir)
	crc, err := writeSource(src, size)
	if err != nil {
		return err
	}

	ours, err := newSDKContender(src, size, crc, filepath.Join(dir, "localcloud"))
	if err != nil {
		return err
	}
	rawDisk, err := newRawContender("raw-disk", "raw loopback PUT → file + fsync", src, size, filepath.Join(dir, "raw"))
	if err != nil {
		ours.close()
		return err
	}
	rawDiscard, err := newRawContender("raw-discard", "raw loopback PUT → io.Discard", src, size, "")
	if err != nil {
		ours.close()
		rawDisk.close()
		return err
	}
	contenders := []*contender{ours, rawDisk, rawDiscard}
	defer func() {
		for _, c := range contenders {
			if cerr := c.close(); cerr != nil && err == nil {
				err = cerr
			}
		}
	}()

	ctx := context.Background()
	times := make(map[string][]time.Duration)
	for round := -warmup; round < runs; round++ {
		if round == 0 && cpuProfile != "" {
			stop, err := startProfile(cpuProfile)
			if err != nil {
				return err
			}
			defer stop()
		}
		for _, c := range contenders {
			d, err := c.run(ctx, round)
			if err != nil {
				return fmt.Errorf("%s, run %d: %w", c.Name, round, err)
			}
			label := "warm-up"
			if round >= 0 {
				label = fmt.Sprintf("run %d/%d", round+1, runs)
				times[c.Key] = append(times[c.Key], d)
			}
			fmt.Fprintf(os.Stderr, "%-8s %-44s %8.1f MB/s (%v)\n", label, c.Name, mbps(size, d), d.Round(time.Millisecond))
		}
	}

	rep := newReport(size, runs, warmup, dir, contenders, times)
	fmt.Print(rep.markdown())
	if jsonPath != "" {
		if err := rep.writeJSON(jsonPath); err != nil {
			return err
		}
	}
	return nil
}

// startProfile starts a CPU profile into path and returns its stop.
func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
