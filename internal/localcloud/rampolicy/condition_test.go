package rampolicy

import (
	"fmt"
	"testing"
)

func TestConditionOperators(t *testing.T) {
	tests := []struct {
		op, key, value string // value is the JSON of the condition value
		ctxVal         string
		want           bool
	}{
		{"StringEquals", "oss:Prefix", `"a/"`, "a/", true},
		{"StringEquals", "oss:Prefix", `"a/"`, "A/", false},
		{"StringNotEquals", "oss:Prefix", `"a/"`, "b/", true},
		{"StringNotEquals", "oss:Prefix", `["a/","b/"]`, "b/", false},
		{"StringEqualsIgnoreCase", "oss:Prefix", `"a/"`, "A/", true},
		{"StringNotEqualsIgnoreCase", "oss:Prefix", `"a/"`, "A/", false},
		{"StringNotEqualsIgnoreCase", "oss:Prefix", `"a/"`, "B/", true},
		{"StringLike", "oss:Prefix", `"uploads/*/x?"`, "uploads/u/v/x1", true},
		{"StringLike", "oss:Prefix", `"uploads/*"`, "Uploads/x", false},
		{"StringNotLike", "oss:Prefix", `"uploads/*"`, "other/x", true},
		{"StringNotLike", "oss:Prefix", `"uploads/*"`, "uploads/x", false},
		{"NumericEquals", "oss:max-keys", `100`, "100.0", true},
		{"NumericEquals", "oss:max-keys", `"100"`, "99", false},
		{"NumericNotEquals", "oss:max-keys", `100`, "99", true},
		{"NumericLessThan", "oss:max-keys", `100`, "99", true},
		{"NumericLessThan", "oss:max-keys", `100`, "100", false},
		{"NumericLessThanEquals", "oss:max-keys", `100`, "100", true},
		{"NumericGreaterThan", "oss:max-keys", `100`, "101", true},
		{"NumericGreaterThan", "oss:max-keys", `100`, "100", false},
		{"NumericGreaterThanEquals", "oss:max-keys", `100`, "100", true},
		{"DateEquals", "acs:CurrentTime", `"2025-01-01T00:00:00Z"`, "2025-01-01T08:00:00+08:00", true},
		{"DateNotEquals", "acs:CurrentTime", `"2025-01-01T00:00:00Z"`, "2025-01-01T00:00:01Z", true},
		{"DateLessThan", "acs:CurrentTime", `"2025-01-01T00:00:00Z"`, "2024-12-31T23:59:59Z", true},
		{"DateLessThan", "acs:CurrentTime", `"2025-01-01T00:00:00Z"`, "2025-01-01T00:00:00Z", false},
		{"DateLessThanEquals", "acs:CurrentTime", `"2025-01-01"`, "2025-01-01T00:00:00Z", true},
		{"DateGreaterThan", "acs:CurrentTime", `"2025-01-01T00:00:00Z"`, "2025-06-01T00:00:00Z", true},
		{"DateGreaterThanEquals", "acs:CurrentTime", `1735689600`, "2025-01-01T00:00:00Z", true},
		{"DateGreaterThanEquals", "acs:CurrentTime", `"2025-01-01T00:00:00Z"`, "2024-01-01T00:00:00Z", false},
		{"Bool", "acs:SecureTransport", `true`, "true", true},
		{"Bool", "acs:SecureTransport", `"true"`, "false", false},
		{"IpAddress", "acs:SourceIp", `"192.168.0.0/16"`, "192.168.3.4", true},
		{"IpAddress", "acs:SourceIp", `"192.168.0.0/16"`, "10.1.1.1", false},
		{"IpAddress", "acs:SourceIp", `"203.0.113.7"`, "203.0.113.7", true},
		{"IpAddress", "acs:SourceIp", `"127.0.0.0/8"`, "::ffff:127.0.0.1", true},
		{"IpAddress", "acs:SourceIp", `"2001:db8::/32"`, "2001:db8::1", true},
		{"NotIpAddress", "acs:SourceIp", `["10.0.0.0/8","172.16.0.0/12"]`, "8.8.8.8", true},
		{"NotIpAddress", "acs:SourceIp", `["10.0.0.0/8","172.16.0.0/12"]`, "172.16.5.5", false},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s %s %s vs %s", tt.op, tt.key, tt.value, tt.ctxVal)
		t.Run(name, func(t *testing.T) {
			doc := fmt.Sprintf(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource":"*","Condition":{%q:{%q:%s}}}]}`, tt.op, tt.key, tt.value)
			p := mustParse(t, doc)
			req := Request{Action: "oss:ListObjects", Resource: arnPrefix + "b", Context: ctx(tt.key, tt.ctxVal)}
			want := ImplicitDeny
			if tt.want {
				want = Allow
			}
			if got := p.Evaluate(req); got != want {
				t.Errorf("Evaluate = %v, want %v", got, want)
			}
			// Every operator fails closed without its key: the Allow does not
			// apply, and the same condition on a Deny does.
			req.Context = nil
			if got := p.Evaluate(req); got != ImplicitDeny {
				t.Errorf("without the key: Evaluate = %v, want ImplicitDeny", got)
			}
			deny := fmt.Sprintf(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"oss:*","Resource":"*","Condition":{%q:{%q:%s}}}]}`, tt.op, tt.key, tt.value)
			if got := mustParse(t, deny).Evaluate(req); got != ExplicitDeny {
				t.Errorf("Deny without the key: Evaluate = %v, want ExplicitDeny", got)
			}
		})
	}
}

func TestConditionUnparseableRequestValue(t *testing.T) {
	for _, tt := range []struct{ op, value, ctxVal string }{
		{"NumericEquals", `1`, "one"},
		{"NumericNotEquals", `1`, "NaN"},
		{"DateLessThan", `"2025-01-01T00:00:00Z"`, "tomorrow"},
		{"Bool", `true`, "yes"},
		{"IpAddress", `"10.0.0.0/8"`, "10.0.0.0/8"},
		{"NotIpAddress", `"10.0.0.0/8"`, "not-an-ip"},
	} {
		t.Run(tt.op, func(t *testing.T) {
			allow := mustParse(t, fmt.Sprintf(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{%q:{"k:v":%s}}}]}`, tt.op, tt.value))
			deny := mustParse(t, fmt.Sprintf(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{%q:{"k:v":%s}}}]}`, tt.op, tt.value))
			req := Request{Action: "oss:GetObject", Resource: arnPrefix + "b/k", Context: ctx("k:v", tt.ctxVal)}
			if got := allow.Evaluate(req); got != ImplicitDeny {
				t.Errorf("Allow: Evaluate = %v, want ImplicitDeny", got)
			}
			if got := deny.Evaluate(req); got != ExplicitDeny {
				t.Errorf("Deny: Evaluate = %v, want ExplicitDeny", got)
			}
		})
	}
}
