package faults

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseConfigValid(t *testing.T) {
	cfg, err := ParseConfig(`{"seed":-3,"rules":[{"op":"ListParts","stallRate":1,"stall":"250ms","count":1}],"bandwidthBytesPerSec":1000}`)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Seed: -3, BandwidthBytesPerSec: 1000, Rules: []Rule{
		{Op: "ListParts", StallRate: 1, Stall: Duration(250 * time.Millisecond), Count: 1},
	}}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got %+v, want %+v", cfg, want)
	}

	for _, blank := range []string{"", "  \n"} {
		if cfg, err := ParseConfig(blank); err != nil || !reflect.DeepEqual(cfg, Config{}) {
			t.Errorf("ParseConfig(%q) = %+v, %v; want the zero Config", blank, cfg, err)
		}
	}

	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"stall":"250ms"`) {
		t.Errorf("Duration not written as a Go duration string: %s", b)
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct{ in, msg string }{
		{`{`, "unexpected EOF"},
		{`[]`, "cannot unmarshal array"},
		{`{"seed":1} {"seed":2}`, "unexpected data after the JSON object"},
		{`{"seed":1} x`, "unexpected data after the JSON object"},
		{`{"rules":[{"op":"*","eror":1}]}`, `unknown field "eror"`},
		{`{"rules":[{"errorRate":0.5}]}`, "rules[0] (op \"\"): op is required"},
		{`{"rules":[{"op":"*"},{"op":"UploadPart","resetRate":1.01}]}`, `rules[1] (op "UploadPart"): resetRate must be between 0 and 1, got 1.01`},
		{`{"rules":[{"op":"*","errorRate":-0.1}]}`, "errorRate must be between 0 and 1"},
		{`{"rules":[{"op":"*","corruptCrcRate":2}]}`, "corruptCrcRate must be between 0 and 1"},
		{`{"rules":[{"op":"*","stallRate":7}]}`, "stallRate must be between 0 and 1"},
		{`{"rules":[{"op":"*","stall":"-1s"}]}`, "stall must not be negative, got -1s"},
		{`{"rules":[{"op":"*","stall":"soon"}]}`, `duration "soon"`},
		{`{"rules":[{"op":"*","stall":5}]}`, `duration must be a string such as "2s"`},
		{`{"rules":[{"op":"*","stallRate":0.5}]}`, "stallRate is set but stall is zero"},
		{`{"rules":[{"op":"*","count":-1}]}`, "count must not be negative"},
		{`{"bandwidthBytesPerSec":-5}`, "bandwidthBytesPerSec must not be negative"},
		{`{"linkBytesPerSec":-1}`, "linkBytesPerSec must not be negative"},
	} {
		_, err := ParseConfig(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ParseConfig(%s) = %v, want an error containing %q", tc.in, err, tc.msg)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv(EnvVar, `{"rules":[{"op":"PutObject","errorRate":1}]}`)
	cfg, err := ConfigFromEnv()
	if err != nil || len(cfg.Rules) != 1 || cfg.Rules[0].ErrorRate != 1 {
		t.Fatalf("ConfigFromEnv = %+v, %v", cfg, err)
	}
	t.Setenv(EnvVar, `{"rules":[{"op":"PutObject","errorRate":3}]}`)
	if _, err := ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), EnvVar) {
		t.Errorf("error %v does not name %s", err, EnvVar)
	}
	t.Setenv(EnvVar, "")
	if cfg, err := ConfigFromEnv(); err != nil || len(cfg.Rules) != 0 {
		t.Errorf("empty variable: %+v, %v", cfg, err)
	}
}

func TestConfigReturnsACopy(t *testing.T) {
	inj := New(Config{Rules: []Rule{{Op: "PutObject", ErrorRate: 1}}})
	cfg := inj.Config()
	cfg.Rules[0].ErrorRate = 0
	if inj.Config().Rules[0].ErrorRate != 1 {
		t.Error("changing the returned Config changed the injector")
	}
}

// FuzzParseConfig checks that any accepted document is valid and survives a
// JSON round trip unchanged.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		``,
		`{"seed":1,"rules":[{"op":"*","errorRate":0.5,"stallRate":0.1,"stall":"2s","count":3}],"bandwidthBytesPerSec":10}`,
		`{"rules":[{"op":"UploadPart","resetRate":1,"corruptCrcRate":0.2}],"stats":{"x":{}}}`,
		`{"rules":[{"op":"*","stall":"-1h"}]}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cfg, err := ParseConfig(s)
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("accepted an invalid config: %v", err)
		}
		b, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseConfig(string(b))
		if err != nil {
			t.Fatalf("re-parse of %s: %v", b, err)
		}
		if !reflect.DeepEqual(again, cfg) {
			t.Fatalf("round trip changed %+v into %+v", cfg, again)
		}
	})
}
