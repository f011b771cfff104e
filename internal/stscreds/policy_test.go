package stscreds

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ossup/ossup/internal/localcloud/rampolicy"
)

func TestObjectPolicyText(t *testing.T) {
	got := ObjectPolicy("dev-bucket", "uploads/u-42/a.bin")
	want := `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:PutObject","oss:ListParts","oss:AbortMultipartUpload"],"Resource":["acs:oss:*:*:dev-bucket/uploads/u-42/a.bin"]}]}`
	if got != want {
		t.Fatalf("ObjectPolicy =\n%s\nwant\n%s", got, want)
	}
	got = PrefixPolicy("dev-bucket", "uploads/u-42/")
	want = strings.Replace(want, "uploads/u-42/a.bin", "uploads/u-42/*", 1)
	if got != want {
		t.Fatalf("PrefixPolicy =\n%s\nwant\n%s", got, want)
	}
}

func TestPolicyEncodesHostileKeys(t *testing.T) {
	for _, key := range []string{
		`a"],"Action":["oss:*"],"Resource":["*`,
		`back\slash`, "new\nline", "nul\x00byte", "<tag>&amp;", "日本語/ファイル.txt", "\u2028sep",
	} {
		p := ObjectPolicy("dev-bucket", key)
		var doc policyDoc
		if err := json.Unmarshal([]byte(p), &doc); err != nil {
			t.Fatalf("%q: policy is not JSON: %v", key, err)
		}
		if len(doc.Statement) != 1 || len(doc.Statement[0].Resource) != 1 ||
			doc.Statement[0].Resource[0] != "acs:oss:*:*:dev-bucket/"+key || len(doc.Statement[0].Action) != 3 {
			t.Fatalf("%q: policy decodes to %+v", key, doc)
		}
		if strings.Contains(p, `\u003c`) {
			t.Fatalf("%q: HTML escaping wastes policy characters: %s", key, p)
		}
	}
}

// FuzzObjectPolicy checks that for every key ForObject accepts, the policy
// grants the upload actions on exactly that key and nothing else.
func FuzzObjectPolicy(f *testing.F) {
	for _, s := range [][2]string{
		{"uploads/u-1/a.bin", "uploads/u-1/a.bin2"},
		{`a"b`, `a"c`},
		{"x", "X"},
		{"日本", "日"},
		{"a:b/c", "a:b/d"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, key, other string) {
		if checkKey("key", key) != nil {
			return
		}
		doc := ObjectPolicy("dev-bucket", key)
		if checkPolicySize(doc) != nil {
			return
		}
		p, err := rampolicy.Parse([]byte(doc))
		if err != nil {
			t.Fatalf("key %q: policy rejected by the parser: %v\n%s", key, err, doc)
		}
		arn := func(k string) string { return "acs:oss:cn-hangzhou:1000000000000000:dev-bucket/" + k }
		for _, action := range uploadActions {
			if d := p.Evaluate(rampolicy.Request{Action: action, Resource: arn(key)}); d != rampolicy.Allow {
				t.Fatalf("key %q: %s is %s", key, action, d)
			}
			if other != key {
				if d := p.Evaluate(rampolicy.Request{Action: action, Resource: arn(other)}); d != rampolicy.ImplicitDeny {
					t.Fatalf("key %q: %s on %q is %s", key, action, other, d)
				}
			}
		}
		for _, action := range []string{"oss:GetObject", "oss:DeleteObject", "oss:ListObjects", "oss:PutObjectAcl"} {
			if d := p.Evaluate(rampolicy.Request{Action: action, Resource: arn(key)}); d != rampolicy.ImplicitDeny {
				t.Fatalf("key %q: %s is %s", key, action, d)
			}
		}
		if d := p.Evaluate(rampolicy.Request{Action: "oss:ListMultipartUploads", Resource: "acs:oss:cn-hangzhou:1000000000000000:dev-bucket"}); d != rampolicy.ImplicitDeny {
			t.Fatalf("key %q: ListMultipartUploads on the bucket is %s", key, d)
		}
	})
}
