package rampolicy

import (
	"strings"
	"testing"
)

// uploadPolicy is the least-privilege session policy from the protocol brief.
const uploadPolicy = `{"Version":"1","Statement":[
 {"Effect":"Allow","Action":["oss:PutObject","oss:AbortMultipartUpload","oss:ListParts"],
  "Resource":["acs:oss:*:*:my-bucket/uploads/u-42/*"]},
 {"Effect":"Allow","Action":["oss:ListMultipartUploads"],"Resource":["acs:oss:*:*:my-bucket"],
  "Condition":{"StringLike":{"oss:Prefix":["uploads/u-42/*"]}}}]}`

const arnPrefix = "acs:oss:cn-hangzhou:1000000000000000:"

func mustParse(t testing.TB, doc string) *Policy {
	t.Helper()
	p, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse(%s): %v", doc, err)
	}
	return p
}

func ctx(kv ...string) map[string][]string {
	m := map[string][]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = append(m[kv[i]], kv[i+1])
	}
	return m
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		req    Request
		want   Decision
	}{
		{"upload: put in own prefix", uploadPolicy,
			Request{Action: "oss:PutObject", Resource: arnPrefix + "my-bucket/uploads/u-42/a/b.bin"}, Allow},
		{"upload: other region and account match wildcards", uploadPolicy,
			Request{Action: "oss:PutObject", Resource: "acs:oss:eu-central-1:42:my-bucket/uploads/u-42/x"}, Allow},
		{"upload: put in another user's prefix", uploadPolicy,
			Request{Action: "oss:PutObject", Resource: arnPrefix + "my-bucket/uploads/u-43/x"}, ImplicitDeny},
		{"upload: prefix is not a string prefix match", uploadPolicy,
			Request{Action: "oss:PutObject", Resource: arnPrefix + "my-bucket/uploads/u-420/x"}, ImplicitDeny},
		{"upload: get is not granted", uploadPolicy,
			Request{Action: "oss:GetObject", Resource: arnPrefix + "my-bucket/uploads/u-42/x"}, ImplicitDeny},
		{"upload: other bucket", uploadPolicy,
			Request{Action: "oss:PutObject", Resource: arnPrefix + "other-bucket/uploads/u-42/x"}, ImplicitDeny},
		{"upload: bucket ARN is not an object ARN", uploadPolicy,
			Request{Action: "oss:PutObject", Resource: arnPrefix + "my-bucket"}, ImplicitDeny},
		{"upload: colons in a key cannot smuggle another bucket", uploadPolicy,
			Request{Action: "oss:PutObject", Resource: arnPrefix + "evil/a:b:my-bucket/uploads/u-42/x"}, ImplicitDeny},
		{"upload: action case-insensitive", uploadPolicy,
			Request{Action: "OSS:abortMULTIPARTupload", Resource: arnPrefix + "my-bucket/uploads/u-42/x"}, Allow},
		{"upload: resource case-sensitive", uploadPolicy,
			Request{Action: "oss:PutObject", Resource: arnPrefix + "My-Bucket/uploads/u-42/x"}, ImplicitDeny},
		{"upload: list uploads with own prefix", uploadPolicy,
			Request{Action: "oss:ListMultipartUploads", Resource: arnPrefix + "my-bucket",
				Context: ctx("oss:Prefix", "uploads/u-42/")}, Allow},
		{"upload: condition key case-insensitive", uploadPolicy,
			Request{Action: "oss:ListMultipartUploads", Resource: arnPrefix + "my-bucket",
				Context: ctx("OSS:PREFIX", "uploads/u-42/sub")}, Allow},
		{"upload: list uploads with wider prefix", uploadPolicy,
			Request{Action: "oss:ListMultipartUploads", Resource: arnPrefix + "my-bucket",
				Context: ctx("oss:Prefix", "uploads/")}, ImplicitDeny},
		{"upload: list uploads without prefix fails closed", uploadPolicy,
			Request{Action: "oss:ListMultipartUploads", Resource: arnPrefix + "my-bucket"}, ImplicitDeny},

		{"prefix a allows a", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource":"acs:oss:*:*:dev-bucket/uploads/a/*"}]}`,
			Request{Action: "oss:PutObject", Resource: arnPrefix + "dev-bucket/uploads/a/x"}, Allow},
		{"star crosses slashes", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource":"acs:oss:*:*:dev-bucket/uploads/a/*"}]}`,
			Request{Action: "oss:PutObject", Resource: arnPrefix + "dev-bucket/uploads/a/deep/er/x"}, Allow},
		{"prefix a denies b", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource":"acs:oss:*:*:dev-bucket/uploads/a/*"}]}`,
			Request{Action: "oss:PutObject", Resource: arnPrefix + "dev-bucket/uploads/b/x"}, ImplicitDeny},
		{"question mark is one character", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:Put?bject","Resource":"acs:oss:*:*:b/k?"}]}`,
			Request{Action: "oss:PutObject", Resource: arnPrefix + "b/k1"}, Allow},
		{"question mark is not zero characters", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:PutObject","Resource":"acs:oss:*:*:b/k?"}]}`,
			Request{Action: "oss:PutObject", Resource: arnPrefix + "b/k"}, ImplicitDeny},
		{"explicit account must match", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"acs:oss:*:2000000000000000:*"}]}`,
			Request{Action: "oss:PutObject", Resource: arnPrefix + "b/k"}, ImplicitDeny},
		{"star everything", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
			Request{Action: "oss:DeleteBucket", Resource: arnPrefix + "b"}, Allow},

		{"deny beats allow", `{"Version":"1","Statement":[
			{"Effect":"Allow","Action":"oss:*","Resource":"*"},
			{"Effect":"Deny","Action":"oss:DeleteObject","Resource":"acs:oss:*:*:b/*"}]}`,
			Request{Action: "oss:DeleteObject", Resource: arnPrefix + "b/k"}, ExplicitDeny},
		{"deny order does not matter", `{"Version":"1","Statement":[
			{"Effect":"Deny","Action":"oss:DeleteObject","Resource":"acs:oss:*:*:b/*"},
			{"Effect":"Allow","Action":"oss:*","Resource":"*"}]}`,
			Request{Action: "oss:deleteobject", Resource: arnPrefix + "b/k"}, ExplicitDeny},
		{"deny elsewhere leaves allow", `{"Version":"1","Statement":[
			{"Effect":"Allow","Action":"oss:*","Resource":"*"},
			{"Effect":"Deny","Action":"oss:DeleteObject","Resource":"acs:oss:*:*:b/*"}]}`,
			Request{Action: "oss:GetObject", Resource: arnPrefix + "b/k"}, Allow},

		{"NotAction allows others", `{"Version":"1","Statement":[{"Effect":"Allow","NotAction":["oss:Delete*"],"Resource":"*"}]}`,
			Request{Action: "oss:PutObject", Resource: arnPrefix + "b/k"}, Allow},
		{"NotAction excludes listed", `{"Version":"1","Statement":[{"Effect":"Allow","NotAction":["oss:Delete*"],"Resource":"*"}]}`,
			Request{Action: "oss:DeleteObject", Resource: arnPrefix + "b/k"}, ImplicitDeny},
		{"NotResource allows others", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","NotResource":"acs:oss:*:*:b/secret/*"}]}`,
			Request{Action: "oss:GetObject", Resource: arnPrefix + "b/public/x"}, Allow},
		{"NotResource excludes listed", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","NotResource":"acs:oss:*:*:b/secret/*"}]}`,
			Request{Action: "oss:GetObject", Resource: arnPrefix + "b/secret/x"}, ImplicitDeny},
		{"Deny with NotResource", `{"Version":"1","Statement":[
			{"Effect":"Allow","Action":"oss:*","Resource":"*"},
			{"Effect":"Deny","Action":"oss:*","NotResource":"acs:oss:*:*:b/*"}]}`,
			Request{Action: "oss:GetObject", Resource: arnPrefix + "other/x"}, ExplicitDeny},

		{"allow condition on missing key does not apply", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
			"Condition":{"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}}}]}`,
			Request{Action: "oss:GetObject", Resource: arnPrefix + "b/k"}, ImplicitDeny},
		{"negated allow condition on missing key does not apply", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
			"Condition":{"StringNotEquals":{"acs:UserAgent":"bad"}}}]}`,
			Request{Action: "oss:GetObject", Resource: arnPrefix + "b/k"}, ImplicitDeny},
		{"deny condition on missing key applies", `{"Version":"1","Statement":[
			{"Effect":"Allow","Action":"*","Resource":"*"},
			{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"acs:SecureTransport":"false"}}}]}`,
			Request{Action: "oss:GetObject", Resource: arnPrefix + "b/k"}, ExplicitDeny},
		{"deny condition false does not apply", `{"Version":"1","Statement":[
			{"Effect":"Allow","Action":"*","Resource":"*"},
			{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"acs:SecureTransport":"false"}}}]}`,
			Request{Action: "oss:GetObject", Resource: arnPrefix + "b/k", Context: ctx("acs:SecureTransport", "true")}, Allow},
		{"allow condition on unparseable value does not apply", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
			"Condition":{"NumericLessThan":{"oss:max-keys":100}}}]}`,
			Request{Action: "oss:ListObjects", Resource: arnPrefix + "b", Context: ctx("oss:max-keys", "lots")}, ImplicitDeny},
		{"deny condition on unparseable value applies", `{"Version":"1","Statement":[
			{"Effect":"Allow","Action":"*","Resource":"*"},
			{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"acs:CurrentTime":"2030-01-01T00:00:00Z"}}}]}`,
			Request{Action: "oss:GetObject", Resource: arnPrefix + "b/k", Context: ctx("acs:CurrentTime", "yesterday")}, ExplicitDeny},
		{"one false condition of several blocks allow", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
			"Condition":{"IpAddress":{"acs:SourceIp":"127.0.0.0/8"},"StringEquals":{"oss:Delimiter":"/"}}}]}`,
			Request{Action: "oss:ListObjects", Resource: arnPrefix + "b", Context: ctx("acs:SourceIp", "127.0.0.1", "oss:Delimiter", ",")}, ImplicitDeny},
		{"all conditions true allow", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
			"Condition":{"IpAddress":{"acs:SourceIp":"127.0.0.0/8"},"StringEquals":{"oss:Delimiter":"/"}}}]}`,
			Request{Action: "oss:ListObjects", Resource: arnPrefix + "b", Context: ctx("acs:SourceIp", "127.0.0.1", "oss:Delimiter", "/")}, Allow},
		{"keys in one operator are ANDed", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
			"Condition":{"StringEquals":{"oss:Delimiter":"/","oss:Prefix":"a/"}}}]}`,
			Request{Action: "oss:ListObjects", Resource: arnPrefix + "b", Context: ctx("oss:Delimiter", "/", "oss:Prefix", "b/")}, ImplicitDeny},
		{"values of one key are ORed", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
			"Condition":{"StringEquals":{"oss:Prefix":["a/","b/"]}}}]}`,
			Request{Action: "oss:ListObjects", Resource: arnPrefix + "b", Context: ctx("oss:Prefix", "b/")}, Allow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, tt.policy)
			if got := p.Evaluate(tt.req); got != tt.want {
				t.Errorf("Evaluate(%+v) = %v, want %v", tt.req, got, tt.want)
			}
		})
	}
}

func TestAllowedByAll(t *testing.T) {
	role := mustParse(t, `{"Version":"1","Statement":[
		{"Effect":"Allow","Action":["oss:PutObject","oss:GetObject"],"Resource":"acs:oss:*:*:my-bucket/uploads/*"},
		{"Effect":"Deny","Action":"oss:PutObject","Resource":"acs:oss:*:*:my-bucket/uploads/frozen/*"}]}`)
	session := mustParse(t, `{"Version":"1","Statement":[
		{"Effect":"Allow","Action":["oss:PutObject","oss:DeleteObject"],"Resource":["acs:oss:*:*:my-bucket/uploads/u-42/*","acs:oss:*:*:my-bucket/uploads/frozen/*","acs:oss:*:*:my-bucket/private/*"]}]}`)
	put := func(key string) Request {
		return Request{Action: "oss:PutObject", Resource: arnPrefix + "my-bucket/" + key}
	}
	tests := []struct {
		name string
		req  Request
		ps   []*Policy
		want bool
	}{
		{"both allow", put("uploads/u-42/x"), []*Policy{role, session}, true},
		{"role allows, session does not", put("uploads/u-43/x"), []*Policy{role, session}, false},
		{"session allows, role does not", put("private/x"), []*Policy{role, session}, false},
		{"action only in session", Request{Action: "oss:DeleteObject", Resource: arnPrefix + "my-bucket/uploads/u-42/x"}, []*Policy{role, session}, false},
		{"action only in role", Request{Action: "oss:GetObject", Resource: arnPrefix + "my-bucket/uploads/u-42/x"}, []*Policy{role, session}, false},
		{"role denies explicitly", put("uploads/frozen/x"), []*Policy{role, session}, false},
		{"role alone", put("uploads/u-43/x"), []*Policy{role}, true},
		{"no policies", put("uploads/u-42/x"), nil, false},
		{"nil policy", put("uploads/u-42/x"), []*Policy{role, nil}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AllowedByAll(tt.req, tt.ps...); got != tt.want {
				t.Errorf("AllowedByAll = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	stmt := func(s string) string { return `{"Version":"1","Statement":[` + s + `]}` }
	tests := []struct {
		name, doc, want string
	}{
		{"bad JSON", `{"Version":"1",`, "invalid JSON"},
		{"not JSON", `hello`, "invalid JSON"},
		{"trailing data", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]} {}`, "after the JSON document"},
		{"not an object", `[]`, "must be a JSON object"},
		{"null", `null`, "must be a JSON object"},
		{"missing version", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, `missing field "Version"`},
		{"wrong version", `{"Version":"2","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, `"Version" must be`},
		{"numeric version", `{"Version":1,"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, `"Version" must be`},
		{"unknown top-level field", `{"Version":"1","Id":"x","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, `unknown policy field "Id"`},
		{"lower-case field", `{"version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, `unknown policy field "version"`},
		{"duplicate key", `{"Version":"1","Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, `duplicate key "Version"`},
		{"missing statement", `{"Version":"1"}`, `missing field "Statement"`},
		{"statement object", `{"Version":"1","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, `"Statement" must be an array`},
		{"empty statement", `{"Version":"1","Statement":[]}`, `"Statement" must not be empty`},
		{"statement not object", stmt(`"Allow"`), "statement must be an object"},
		{"unknown statement field", stmt(`{"Sid":"a","Effect":"Allow","Action":"*","Resource":"*"}`), `unknown statement field "Sid"`},
		{"missing effect", stmt(`{"Action":"*","Resource":"*"}`), `missing field "Effect"`},
		{"bad effect", stmt(`{"Effect":"allow","Action":"*","Resource":"*"}`), `"Effect" must be`},
		{"missing action", stmt(`{"Effect":"Allow","Resource":"*"}`), `missing field "Action" or "NotAction"`},
		{"action and notaction", stmt(`{"Effect":"Allow","Action":"*","NotAction":"oss:*","Resource":"*"}`), "mutually exclusive"},
		{"empty action list", stmt(`{"Effect":"Allow","Action":[],"Resource":"*"}`), `"Action" must not be empty`},
		{"empty action string", stmt(`{"Effect":"Allow","Action":"","Resource":"*"}`), `"Action" must not be empty`},
		{"empty string in action list", stmt(`{"Effect":"Allow","Action":["oss:*",""],"Resource":"*"}`), "must not contain empty strings"},
		{"numeric action", stmt(`{"Effect":"Allow","Action":7,"Resource":"*"}`), "must be a string or an array of strings, not number"},
		{"action without service", stmt(`{"Effect":"Allow","Action":"PutObject","Resource":"*"}`), "is not"},
		{"action with space", stmt(`{"Effect":"Allow","Action":"oss:Put Object","Resource":"*"}`), "is not"},
		{"missing resource", stmt(`{"Effect":"Allow","Action":"*"}`), `missing field "Resource" or "NotResource"`},
		{"resource not an ARN", stmt(`{"Effect":"Allow","Action":"*","Resource":"my-bucket/*"}`), "is not"},
		{"resource too few fields", stmt(`{"Effect":"Allow","Action":"*","Resource":"acs:oss:*:*"}`), "is not"},
		{"resource and notresource", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}`), "mutually exclusive"},
		{"condition not object", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":[]}`), `"Condition" must be an object`},
		{"unknown operator", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringMatches":{"a:b":"c"}}}`), `unknown condition operator "StringMatches"`},
		{"operator not object", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":"x"}}`), "must map keys to values"},
		{"operator without keys", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{}}}`), "has no keys"},
		{"empty key", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"":"x"}}}`), "empty key"},
		{"object value", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"a:b":{"c":"d"}}}}`), "not object"},
		{"null value", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"a:b":null}}}`), "not null"},
		{"empty value list", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"a:b":[]}}}`), "must not be empty"},
		{"nested value list", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"a:b":[["x"]]}}}`), "not array"},
		{"bad number", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericEquals":{"a:b":"ten"}}}`), "not valid for this operator"},
		{"bad date", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"acs:CurrentTime":"soon"}}}`), "not valid for this operator"},
		{"bad bool", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"acs:SecureTransport":"yes"}}}`), "not valid for this operator"},
		{"bad ip", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":"10.0.0.300"}}}`), "not valid for this operator"},
		{"too deep", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"a:b":[[[[[[[[["x"]]]]]]]]]}}}]}`, "nested too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.doc))
			if err == nil {
				t.Fatalf("Parse succeeded (%+v), want error containing %q", p, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseAcceptsScalarsAndLists(t *testing.T) {
	p := mustParse(t, `{"Statement":[{"Resource":"*","Effect":"Allow","Action":"oss:GetObject",
		"Condition":{"NumericLessThanEquals":{"oss:max-keys":100},"Bool":{"acs:SecureTransport":true},
		"IpAddress":{"acs:SourceIp":["10.0.0.0/8","::1","192.168.1.7"]}}}],"Version":"1"}`)
	req := Request{Action: "oss:getobject", Resource: arnPrefix + "b/k", Context: ctx(
		"oss:max-keys", "100", "acs:SecureTransport", "TRUE", "acs:SourceIp", "::1")}
	if got := p.Evaluate(req); got != Allow {
		t.Fatalf("Evaluate = %v, want Allow", got)
	}
	if got := (*Policy)(nil).Evaluate(req); got != ImplicitDeny {
		t.Fatalf("nil policy Evaluate = %v, want ImplicitDeny", got)
	}
}

func TestWildcardMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "a/b:c", true},
		{"a*", "a", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"?", "é", true},
		{"*a*a*a*a*a*b", strings.Repeat("a", 2000), false},
		{"uploads/u-42/*", "uploads/u-42/", true},
		{"uploads/u-42/*", "uploads/u-4", false},
		{"**", "x", true},
	}
	for _, tt := range tests {
		if got := wildcardMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}
