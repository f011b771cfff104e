package main

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat:
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// proc is what /proc says about one process.
type proc struct {
	ppid     int
	cpu      time.Duration // utime + stime
	rss      int64         // resident bytes
	renderer bool          // a content process (the page and its worker live there)
}

// readProcs reads every process of the machine that /proc lets us see.
func readProcs() map[int]proc {
	out := map[int]proc{}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	page := int64(os.Getpagesize())
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The command name is in parentheses and may hold spaces; the
		// fields after its closing parenthesis are fixed.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 22 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		rss, _ := strconv.ParseInt(f[21], 10, 64)
		p := proc{ppid: ppid, cpu: time.Duration(ut+st) * time.Second / clockTicks, rss: rss * page}
		out[pid] = p
	}
	return out
}

// descendants are the processes below root (the browser and all its
// children: zygotes, renderers, the GPU and network services).
func descendants(all map[int]proc, root int) map[int]proc {
	children := map[int][]int{}
	for pid, p := range all {
		children[p.ppid] = append(children[p.ppid], pid)
	}
	out := map[int]proc{}
	stack := []int{root}
	for len(stack) > 0 {
		pid := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range children[pid] {
			p := all[c]
			if b, err := os.ReadFile("/proc/" + strconv.Itoa(c) + "/cmdline"); err == nil {
				exe, _, _ := bytes.Cut(b, []byte{0})
				// The processes that run pages and their workers: Chromium's
				// renderers, Firefox's content processes, WebKit's web
				// processes.
				p.renderer = bytes.Contains(b, []byte("--type=renderer")) || bytes.Contains(b, []byte("\x00-contentproc")) ||
					bytes.HasSuffix(exe, []byte("/WebKitWebProcess"))
			}
			out[c] = p
			stack = append(stack, c)
		}
	}
	return out
}

// threadCPU is the CPU time of every thread of the processes, by thread id,
// with the thread's name (Chromium names its threads: CrRendererMain is a
// page's main thread, DedicatedWorker a Web Worker's, Chrome_IOThread and
// NetworkService the browser's I/O and network threads; Linux keeps the
// first 15 bytes).
type threadTime struct {
	name string
	cpu  time.Duration
}

func threadCPU(ps map[int]proc) map[int]threadTime {
	out := map[int]threadTime{}
	for pid := range ps {
		dir := "/proc/" + strconv.Itoa(pid) + "/task"
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			b, err := os.ReadFile(dir + "/" + e.Name() + "/stat")
			if err != nil {
				continue
			}
			open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
			if open < 0 || end < open {
				continue
			}
			f := strings.Fields(string(b[end+1:]))
			if len(f) < 13 {
				continue
			}
			ut, _ := strconv.ParseInt(f[11], 10, 64)
			st, _ := strconv.ParseInt(f[12], 10, 64)
			out[tid] = threadTime{name: string(b[open+1 : end]), cpu: time.Duration(ut+st) * time.Second / clockTicks}
		}
	}
	return out
}

// threadDelta sums the CPU time threads used between two snapshots, by
// thread name.
func threadDelta(before, after map[int]threadTime) map[string]float64 {
	out := map[string]float64{}
	for tid, a := range after {
		if d := a.cpu - before[tid].cpu; d > 0 {
			out[a.name] += d.Seconds()
		}
	}
	return out
}

// browserProcs are the browser processes this program started (for
// WebKit: WebKitWebDriver, MiniBrowser, its web and network processes, and
// the Xvfb it draws on).
func browserProcs() map[int]proc { return descendants(readProcs(), os.Getpid()) }

// cpuDelta is the CPU time the processes used between two snapshots. A
// process that started in between counts whole; one that ended in between
// is lost (Chromium keeps its processes for the browser's lifetime).
func cpuDelta(before, after map[int]proc) time.Duration {
	var d time.Duration
	for pid, a := range after {
		d += a.cpu - before[pid].cpu
	}
	return d
}

// rendererRSS is the resident memory of the Chromium renderer processes.
func rendererRSS(ps map[int]proc) int64 {
	var n int64
	for _, p := range ps {
		if p.renderer {
			n += p.rss
		}
	}
	return n
}

// selfCPU is the CPU time of this process: the local OSS, the backend and,
// for the native contender, the OSS Go SDK's client.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
