// Package faults injects failures into the local OSS endpoint so that tests of
// the uploader can prove it survives them: 5xx answers, connection resets in
// the middle of a request body, stalls, corrupted CRC64 headers and a
// per-connection bandwidth limit.
//
// Injection is off unless configured. The configuration is JSON, read once at
// start (see [ConfigFromEnv]) and replaceable at run time through
// [Injector.AdminHandler]. A seed makes the sequence of decisions repeatable.
package faults

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"
)

// EnvVar is the environment variable [ConfigFromEnv] reads.
const EnvVar = "OSSUP_FAULTS"

// Wildcard is the Rule.Op that matches every operation.
const Wildcard = "*"

// Rule describes the faults injected into one OSS operation.
//
// Each rate is the probability, per matching request, that the fault fires.
// A request can be stalled and then still receive another fault; a reset or
// a 5xx answer ends it; a corrupted CRC applies to an otherwise normal answer.
type Rule struct {
	// Op is an OSS operation name such as "PutObject" or "UploadPart", or "*".
	// Names are not checked against a list, so a misspelt name never matches.
	Op string `json:"op"`
	// ErrorRate is the fraction of requests answered with an OSS 5xx error,
	// alternately 500 InternalError and 503 ServiceUnavailable.
	ErrorRate float64 `json:"errorRate"`
	// ResetRate is the fraction of requests whose connection is reset (TCP
	// RST) after about half of the request body has been read.
	ResetRate float64 `json:"resetRate"`
	// StallRate is the fraction of requests held for Stall before handling.
	StallRate float64 `json:"stallRate"`
	// Stall is how long a stalled request is held.
	Stall Duration `json:"stall"`
	// CorruptCRCRate is the fraction of responses whose x-oss-hash-crc64ecma
	// header is replaced with a different, still valid, decimal value.
	CorruptCRCRate float64 `json:"corruptCrcRate"`
	// Count, if positive, is how many requests the rule may affect in total
	// before it becomes inert; this makes "reset the next 2 UploadParts"
	// expressible without relying on the random sequence.
	Count int `json:"count,omitempty"`
}

// Duration is a time.Duration written in JSON as a Go duration string ("2s").
type Duration time.Duration

// MarshalJSON writes d as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a Go duration string such as "250ms" or "2s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"2s\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}

// Config is the whole fault-injection configuration. The zero Config injects
// nothing.
type Config struct {
	// Seed seeds the random source, so one request sequence always gets the
	// same decisions.
	Seed  int64  `json:"seed"`
	Rules []Rule `json:"rules"`
	// BandwidthBytesPerSec limits each connection accepted through
	// [Injector.Listener], separately in each direction; 0 means unlimited.
	BandwidthBytesPerSec int64 `json:"bandwidthBytesPerSec"`
	// LinkBytesPerSec limits all those connections together, separately in
	// each direction, as one network link would; 0 means unlimited.
	LinkBytesPerSec int64 `json:"linkBytesPerSec"`
}

// Validate reports the first problem in c: a rate outside [0,1], a negative
// duration, count or bandwidth, an empty Op, or a stall rate without a stall.
func (c Config) Validate() error {
	if c.BandwidthBytesPerSec < 0 {
		return fmt.Errorf("bandwidthBytesPerSec must not be negative, got %d", c.BandwidthBytesPerSec)
	}
	if c.LinkBytesPerSec < 0 {
		return fmt.Errorf("linkBytesPerSec must not be negative, got %d", c.LinkBytesPerSec)
	}
	for n, r := range c.Rules {
		if err := r.validate(); err != nil {
			return fmt.Errorf("rules[%d] (op %q): %w", n, r.Op, err)
		}
	}
	return nil
}

func (r Rule) validate() error {
	if strings.TrimSpace(r.Op) == "" {
		return errors.New("op is required (an operation name or \"*\")")
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"errorRate", r.ErrorRate},
		{"resetRate", r.ResetRate},
		{"stallRate", r.StallRate},
		{"corruptCrcRate", r.CorruptCRCRate},
	} {
		if math.IsNaN(f.v) || f.v < 0 || f.v > 1 {
			return fmt.Errorf("%s must be between 0 and 1, got %v", f.name, f.v)
		}
	}
	if r.Stall < 0 {
		return fmt.Errorf("stall must not be negative, got %s", time.Duration(r.Stall))
	}
	if r.StallRate > 0 && r.Stall == 0 {
		return errors.New("stallRate is set but stall is zero; give a duration such as \"2s\"")
	}
	if r.Count < 0 {
		return fmt.Errorf("count must not be negative, got %d", r.Count)
	}
	return nil
}

// ParseConfig parses and validates a JSON configuration. Unknown fields are
// errors, so that a misspelt field does not silently disable a fault; the
// "stats" member of the admin GET document is accepted and ignored so that
// document can be sent back as it is. Blank input is the zero Config.
func ParseConfig(s string) (Config, error) {
	if strings.TrimSpace(s) == "" {
		return Config{}, nil
	}
	// Mirrors the admin GET document (see state).
	var doc struct {
		Config
		Stats json.RawMessage `json:"stats"`
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return Config{}, fmt.Errorf("faults: parse config: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Config{}, errors.New("faults: parse config: unexpected data after the JSON object")
	}
	if err := doc.Config.Validate(); err != nil {
		return Config{}, fmt.Errorf("faults: invalid config: %w", err)
	}
	return doc.Config, nil
}

// ConfigFromEnv parses the configuration in the [EnvVar] environment
// variable; an unset or empty variable gives the zero Config.
func ConfigFromEnv() (Config, error) {
	cfg, err := ParseConfig(os.Getenv(EnvVar))
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", EnvVar, err)
	}
	return cfg, nil
}

// clone returns a copy of c that shares no memory with it.
func (c Config) clone() Config {
	c.Rules = append([]Rule{}, c.Rules...)
	return c
}

// marshalIndent is json.MarshalIndent with a trailing newline, for humans
// reading the admin endpoint with curl.
func marshalIndent(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		// Only plain numbers, strings and slices are marshalled here.
		panic(fmt.Sprintf("faults: marshal: %v", err))
	}
	return append(b, '\n')
}
