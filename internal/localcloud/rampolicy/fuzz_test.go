package rampolicy

import "testing"

var fuzzRequests = []Request{
	{Action: "oss:PutObject", Resource: arnPrefix + "my-bucket/uploads/u-42/x"},
	{Action: "oss:ListMultipartUploads", Resource: arnPrefix + "my-bucket", Context: ctx("oss:Prefix", "uploads/u-42/")},
	{Action: "OSS:GETOBJECT", Resource: arnPrefix + "b/a:b/c", Context: ctx(
		"acs:SourceIp", "127.0.0.1", "acs:CurrentTime", "2025-01-01T00:00:00Z", "acs:SecureTransport", "false", "oss:max-keys", "5")},
	{Action: "", Resource: ""},
}

// FuzzParse checks that Parse never panics and that a policy that parses
// evaluates deterministically, also when parsed again.
func FuzzParse(f *testing.F) {
	f.Add([]byte(uploadPolicy))
	f.Add([]byte(`{"Version":"1","Statement":[{"Effect":"Deny","NotAction":"oss:Get*","NotResource":["acs:oss:*:*:b/*"],
		"Condition":{"IpAddress":{"acs:SourceIp":["10.0.0.0/8"]},"DateLessThan":{"acs:CurrentTime":"2030-01-01T00:00:00Z"},
		"NumericGreaterThan":{"oss:max-keys":3},"Bool":{"acs:SecureTransport":true}}}]}`))
	f.Add([]byte(`{"Version":"1","Statement":[]}`))
	f.Add([]byte(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]} x`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := Parse(doc)
		if err != nil {
			if p != nil {
				t.Fatalf("Parse returned a policy and an error %v", err)
			}
			return
		}
		again, err := Parse(doc)
		if err != nil {
			t.Fatalf("second Parse failed: %v", err)
		}
		for _, req := range fuzzRequests {
			d1, d2, d3 := p.Evaluate(req), p.Evaluate(req), again.Evaluate(req)
			if d1 != d2 || d1 != d3 {
				t.Fatalf("non-deterministic decision for %+v: %v %v %v", req, d1, d2, d3)
			}
			if d1 != ImplicitDeny && d1 != Allow && d1 != ExplicitDeny {
				t.Fatalf("invalid decision %v", d1)
			}
			if AllowedByAll(req, p, again) != (d1 == Allow) {
				t.Fatalf("AllowedByAll disagrees with Evaluate (%v)", d1)
			}
		}
	})
}
