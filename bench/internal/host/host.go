// Package host describes the machine a benchmark ran on, from what Linux
// says in /proc; elsewhere the figures are empty.
package host

import (
	"bufio"
	"os"
	"strings"
)

// ProcField is the first value of key in a /proc file of "key: value"
// lines ("" when there is none).
func ProcField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// CPUModel is the first "model name" of /proc/cpuinfo.
func CPUModel() string { return ProcField("/proc/cpuinfo", "model name") }

// MemTotal is /proc/meminfo's MemTotal, e.g. "24684092 kB".
func MemTotal() string { return ProcField("/proc/meminfo", "MemTotal") }

// LoadAvg is the 1, 5 and 15 minute load now.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
