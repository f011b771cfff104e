package server

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ossup/ossup/internal/localcloud"
)

func TestDevDefaultsMatchLocalCloud(t *testing.T) {
	for name, pair := range map[string][2]string{
		"role":   {devRoleARN, localcloud.DevRoleARN},
		"bucket": {devBucket, localcloud.DevBucket},
		"region": {devRegion, localcloud.DevRegion},
	} {
		if pair[0] != pair[1] {
			t.Errorf("dev %s: server has %q, localcloud %q", name, pair[0], pair[1])
		}
	}
}

// nativeOnly are the settings that only the native server reads: listen
// address, disk, the local cloud, web assets and the janitor.
var nativeOnly = []string{
	"OSSUP_ADDR", "OSSUP_DATA_DIR", "OSSUP_LOCAL_OSS_ADDR", "OSSUP_LOCAL_STS_ADDR", "OSSUP_WEB_DIR",
	"OSSUP_FAULTS", "OSSUP_STS_MIN_DURATION", "OSSUP_JANITOR_INTERVAL", "OSSUP_JANITOR_MAX_AGE", "OSSUP_DEV_EXPOSE", "OSSUP_METRICS_TOKEN",
	"OSSUP_API_ONLY", "OSSUP_UNVERIFIED_MAX_AGE",
}

// TestWorkerConfigNamesEverySetting: worker/workerd.capnp binds every
// setting LoadConfig reads (except the native-only ones), and
// worker/wrangler.toml names each, so a new setting cannot be forgotten in
// the Workers build.
func TestWorkerConfigNamesEverySetting(t *testing.T) {
	var read []string
	_, _ = LoadConfig(func(k string) string {
		if !slices.Contains(read, k) {
			read = append(read, k)
		}
		return ""
	})
	for _, n := range nativeOnly {
		if !slices.Contains(read, n) {
			t.Errorf("%s is listed as native-only but LoadConfig does not read it", n)
		}
	}
	capnp, err := os.ReadFile(filepath.Join("..", "worker", "workerd.capnp"))
	if err != nil {
		t.Fatal(err)
	}
	var bound []string
	for _, m := range regexp.MustCompile(`\(name = "([A-Z_]+)", fromEnvironment = "([A-Z_]+)"\)`).FindAllStringSubmatch(string(capnp), -1) {
		if m[1] != m[2] {
			t.Errorf("binding %s reads variable %s", m[1], m[2])
		}
		bound = append(bound, m[1])
	}
	wrangler, err := os.ReadFile(filepath.Join("..", "worker", "wrangler.toml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range read {
		if slices.Contains(nativeOnly, name) {
			if slices.Contains(bound, name) {
				t.Errorf("workerd.capnp binds the native-only %s", name)
			}
			continue
		}
		if !slices.Contains(bound, name) {
			t.Errorf("workerd.capnp does not bind %s", name)
		}
		if !strings.Contains(string(wrangler), name) {
			t.Errorf("wrangler.toml does not mention %s", name)
		}
	}
	for _, name := range bound {
		if !slices.Contains(read, name) {
			t.Errorf("workerd.capnp binds %s, which LoadConfig does not read", name)
		}
	}
}
