package stsserver

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/dara"

	"github.com/ossup/ossup/internal/localcloud/rampolicy"
)

func TestAssumeRoleWithSDK(t *testing.T) {
	e := newTestEnv(t, nil)
	before := time.Now().UTC().Truncate(time.Second)
	resp, err := e.assumeRole(t, &sts.AssumeRoleRequest{
		RoleArn:         dara.String(testRoleARN),
		RoleSessionName: dara.String("u-42"),
		DurationSeconds: dara.Int64(900),
		Policy:          dara.String(testSessionPolicy),
		ExternalId:      dara.String("abcd1234"),
		SourceIdentity:  dara.String("alice@example"),
	})
	after := time.Now().UTC()
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	if code := dara.Int32Value(resp.StatusCode); code != http.StatusOK {
		t.Errorf("StatusCode = %d", code)
	}
	b := resp.Body
	if dara.StringValue(b.RequestId) == "" {
		t.Error("RequestId is empty")
	}
	if got := dara.StringValue(b.SourceIdentity); got != "alice@example" {
		t.Errorf("SourceIdentity = %q", got)
	}
	if got := dara.StringValue(b.AssumedRoleUser.Arn); got != testRoleARN+"/u-42" {
		t.Errorf("AssumedRoleUser.Arn = %q", got)
	}
	if id := dara.StringValue(b.AssumedRoleUser.AssumedRoleId); !strings.HasSuffix(id, ":u-42") || len(id) < 20 {
		t.Errorf("AssumedRoleUser.AssumedRoleId = %q", id)
	}
	c := b.Credentials
	keyID, secret, token := dara.StringValue(c.AccessKeyId), dara.StringValue(c.AccessKeySecret), dara.StringValue(c.SecurityToken)
	if !strings.HasPrefix(keyID, "STS.") || len(keyID) < 20 {
		t.Errorf("AccessKeyId = %q", keyID)
	}
	if len(secret) < 30 {
		t.Errorf("AccessKeySecret %q is too short", secret)
	}
	if !strings.HasPrefix(token, "CAIS") || strings.ContainsAny(token, "+/= ") {
		t.Errorf("SecurityToken = %q, want CAIS… and URL-safe", token)
	}
	exp, err := time.Parse("2006-01-02T15:04:05Z", dara.StringValue(c.Expiration))
	if err != nil {
		t.Fatalf("Expiration %q: %v", dara.StringValue(c.Expiration), err)
	}
	if exp.Before(before.Add(900*time.Second)) || exp.After(after.Add(900*time.Second)) {
		t.Errorf("Expiration = %s, want 900s after %s..%s", exp, before, after)
	}

	sess, err := e.svc.Resolve(keyID, token, time.Now())
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if sess.AccessKeyID != keyID || sess.AccessKeySecret != secret || !sess.Expiration.Equal(exp) ||
		sess.RoleARN != testRoleARN || sess.SessionName != "u-42" {
		t.Errorf("Resolve = %+v, want key %s secret %s exp %s", sess, keyID, secret, exp)
	}
	if len(sess.Policies) != 2 {
		t.Fatalf("Policies has %d entries, want role and session policy", len(sess.Policies))
	}

	// The effective rights are the intersection of role and session policy.
	arn := func(key string) string { return "acs:oss:cn-hangzhou:" + testAccount + ":dev-bucket/" + key }
	for _, tt := range []struct {
		action, key string
		want        bool
	}{
		{"oss:PutObject", "uploads/u-42/file.bin", true},
		{"oss:ListParts", "uploads/u-42/file.bin", true},
		{"oss:PutObject", "uploads/u-43/file.bin", false},    // role yes, session no
		{"oss:GetObject", "uploads/u-42/file.bin", false},    // role yes, session no
		{"oss:DeleteObject", "uploads/u-42/file.bin", false}, // session yes, role no
		{"oss:PutObject", "private/file.bin", false},
	} {
		req := rampolicy.Request{Action: tt.action, Resource: arn(tt.key)}
		if got := rampolicy.AllowedByAll(req, sess.Policies...); got != tt.want {
			t.Errorf("AllowedByAll(%s %s) = %v, want %v", tt.action, tt.key, got, tt.want)
		}
	}
}

func TestAssumeRoleWithoutSessionPolicyGetsRolePolicy(t *testing.T) {
	e := newTestEnv(t, nil)
	c := e.mustAssumeRole(t, basicRequest())
	sess, err := e.svc.Resolve(dara.StringValue(c.AccessKeyId), dara.StringValue(c.SecurityToken), time.Now())
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if len(sess.Policies) != 1 {
		t.Fatalf("Policies has %d entries, want the role policy only", len(sess.Policies))
	}
	req := rampolicy.Request{Action: "oss:GetObject", Resource: "acs:oss:cn-hangzhou:" + testAccount + ":dev-bucket/uploads/any/x"}
	if !rampolicy.AllowedByAll(req, sess.Policies...) {
		t.Error("role policy does not allow GetObject under uploads/")
	}
	exp, _ := time.Parse("2006-01-02T15:04:05Z", dara.StringValue(c.Expiration))
	if d := time.Until(exp); d < 3590*time.Second || d > 3601*time.Second {
		t.Errorf("default duration: expires in %s, want 3600s", d)
	}
}

func TestAssumeRoleParameterErrors(t *testing.T) {
	e := newTestEnv(t, nil)
	longPolicy := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Resource":"acs:oss:*:*:b/` +
		strings.Repeat("k", 2048) + `"}]}`
	tests := []struct {
		name   string
		req    *sts.AssumeRoleRequest
		status int
		code   string
		msg    string
	}{
		{"missing RoleArn", &sts.AssumeRoleRequest{RoleSessionName: dara.String("u-42")},
			400, "MissingRoleArn", "RoleArn is mandatory for this action."},
		{"missing RoleSessionName", &sts.AssumeRoleRequest{RoleArn: dara.String(testRoleARN)},
			400, "MissingRoleSessionName", "RoleSessionName is mandatory for this action."},
		{"malformed RoleArn", &sts.AssumeRoleRequest{RoleArn: dara.String("arn:aws:iam::1:role/x"), RoleSessionName: dara.String("u-42")},
			400, "InvalidParameter.RoleArn", "The parameter RoleArn is wrongly formed."},
		{"unknown role", &sts.AssumeRoleRequest{RoleArn: dara.String("acs:ram::1000000000000000:role/nobody"), RoleSessionName: dara.String("u-42")},
			404, "EntityNotExist.Role", "The specified Role not exists"},
		{"role of another account", &sts.AssumeRoleRequest{RoleArn: dara.String("acs:ram::2000000000000000:role/uploader"), RoleSessionName: dara.String("u-42")},
			404, "EntityNotExist.Role", "The specified Role not exists"},
		{"session name too short", &sts.AssumeRoleRequest{RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("a")},
			400, "InvalidParameter.RoleSessionName", "The parameter RoleSessionName is wrongly formed."},
		{"session name too long", &sts.AssumeRoleRequest{RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String(strings.Repeat("a", 65))},
			400, "InvalidParameter.RoleSessionName", "wrongly formed"},
		{"session name with space", &sts.AssumeRoleRequest{RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("u 42")},
			400, "InvalidParameter.RoleSessionName", "wrongly formed"},
		{"session name with star", &sts.AssumeRoleRequest{RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("abc*abc")},
			400, "InvalidParameter.RoleSessionName", "wrongly formed"},
		{"session name not ASCII", &sts.AssumeRoleRequest{RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("忍者神龟")},
			400, "InvalidParameter.RoleSessionName", "wrongly formed"},
		{"duration below minimum", &sts.AssumeRoleRequest{RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("u-42"), DurationSeconds: dara.Int64(899)},
			400, "InvalidParameter.DurationSeconds", "The Min/Max value of DurationSeconds is 15min/1hr."},
		{"duration above role maximum", &sts.AssumeRoleRequest{RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("u-42"), DurationSeconds: dara.Int64(3601)},
			400, "InvalidParameter.DurationSeconds", "15min/1hr"},
		{"duration above long role maximum", &sts.AssumeRoleRequest{RoleArn: dara.String("acs:ram::1000000000000000:role/long"), RoleSessionName: dara.String("u-42"), DurationSeconds: dara.Int64(7201)},
			400, "InvalidParameter.DurationSeconds", "15min/2hr"},
		{"duration zero", &sts.AssumeRoleRequest{RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("u-42"), DurationSeconds: dara.Int64(0)},
			400, "InvalidParameter.DurationSeconds", "DurationSeconds"},
		{"duration negative", &sts.AssumeRoleRequest{RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("u-42"), DurationSeconds: dara.Int64(-900)},
			400, "InvalidParameter.DurationSeconds", "DurationSeconds"},
		{"policy not JSON", &sts.AssumeRoleRequest{RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("u-42"), Policy: dara.String("{not json")},
			400, "InvalidParameter.PolicyGrammar", "The parameter Policy has not passed grammar check."},
		{"policy unknown field", &sts.AssumeRoleRequest{RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("u-42"),
			Policy: dara.String(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource":"*","Principal":"*"}]}`)},
			400, "InvalidParameter.PolicyGrammar", `unknown statement field "Principal"`},
		{"policy empty actions", &sts.AssumeRoleRequest{RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("u-42"),
			Policy: dara.String(`{"Version":"1","Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}`)},
			400, "InvalidParameter.PolicyGrammar", "must not be empty"},
		{"policy too long", &sts.AssumeRoleRequest{RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("u-42"), Policy: dara.String(longPolicy)},
			400, "InvalidParameter.PolicyGrammar", "1 to 2048 characters"},
		{"policy empty", &sts.AssumeRoleRequest{RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("u-42"), Policy: dara.String("")},
			400, "InvalidParameter.PolicyGrammar", "1 to 2048 characters"},
		{"external id too short", &sts.AssumeRoleRequest{RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("u-42"), ExternalId: dara.String("x")},
			400, "InvalidParameter.ExternalId", "wrongly formed"},
		{"external id with space", &sts.AssumeRoleRequest{RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("u-42"), ExternalId: dara.String("ab cd")},
			400, "InvalidParameter.ExternalId", "wrongly formed"},
		{"source identity with space", &sts.AssumeRoleRequest{RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("u-42"), SourceIdentity: dara.String("a b")},
			400, "InvalidParameter.SourceIdentity", "wrongly formed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.assumeRole(t, tt.req)
			wantSDKError(t, err, tt.status, tt.code, tt.msg)
		})
	}
}

func TestAssumeRoleAcceptedBoundaries(t *testing.T) {
	e := newTestEnv(t, nil)
	for _, req := range []*sts.AssumeRoleRequest{
		{RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("ab"), DurationSeconds: dara.Int64(900)},
		{RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String(strings.Repeat("x", 64)), DurationSeconds: dara.Int64(3600)},
		{RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("A.z@0_9-")},
		{RoleArn: dara.String("acs:ram::1000000000000000:role/long"), RoleSessionName: dara.String("u-42"), DurationSeconds: dara.Int64(7200)},
		{RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("u-42"), ExternalId: dara.String("ab=,.@:/-_+")},
	} {
		e.mustAssumeRole(t, req)
	}
}

func TestAssumeRoleShortDurationsInDevMode(t *testing.T) {
	e := newTestEnv(t, func(c *Config) { c.MinDuration = time.Second })
	c := e.mustAssumeRole(t, &sts.AssumeRoleRequest{
		RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("u-42"), DurationSeconds: dara.Int64(2)})
	exp, _ := time.Parse("2006-01-02T15:04:05Z", dara.StringValue(c.Expiration))
	keyID, token := dara.StringValue(c.AccessKeyId), dara.StringValue(c.SecurityToken)
	if _, err := e.svc.Resolve(keyID, token, exp.Add(-time.Second)); err != nil {
		t.Errorf("Resolve before expiry: %v", err)
	}
	if _, err := e.svc.Resolve(keyID, token, exp); err == nil {
		t.Error("Resolve at expiry succeeded")
	}
	_, err := e.assumeRole(t, &sts.AssumeRoleRequest{
		RoleArn: dara.String(testRoleARN), RoleSessionName: dara.String("u-42"), DurationSeconds: dara.Int64(0)})
	wantSDKError(t, err, 400, "InvalidParameter.DurationSeconds", "1s/1hr")
}

func TestAssumeRoleAuthenticationErrors(t *testing.T) {
	e := newTestEnv(t, nil)
	_, err := e.client(t, testAK, "not-the-secret").AssumeRole(basicRequest())
	wantSDKError(t, err, 400, "SignatureDoesNotMatch", "Specified signature does not match our calculation.")

	_, err = e.client(t, "LTAI5tSomebodyElse", testSK).AssumeRole(basicRequest())
	wantSDKError(t, err, 404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
}

func TestReplayedNonceIsRejected(t *testing.T) {
	e := newTestEnv(t, nil)
	e.mustAssumeRole(t, basicRequest())
	captured := e.rec.last(t)

	status, body := e.send(t, captured)
	if status != 400 || body["Code"] != "SignatureNonceUsed" {
		t.Fatalf("replay: %d %v, want 400 SignatureNonceUsed", status, body)
	}
	// Fresh requests from the same caller still work.
	e.mustAssumeRole(t, basicRequest())
}

func TestAlteredRequestsAreRejected(t *testing.T) {
	e := newTestEnv(t, nil)
	e.mustAssumeRole(t, basicRequest())
	captured := e.rec.last(t)
	if captured.method != http.MethodPost || len(captured.body) != 0 || !strings.Contains(captured.rawQuery, "RoleArn=") {
		t.Fatalf("unexpected SDK wire format: %s ?%s body %q", captured.method, captured.rawQuery, captured.body)
	}

	alter := func(f func(r *recorded)) recorded {
		r := recorded{method: captured.method, rawQuery: captured.rawQuery, header: captured.header.Clone(), body: captured.body}
		f(&r)
		return r
	}
	tests := []struct {
		name   string
		req    recorded
		status int
		code   string
	}{
		{"changed parameter", alter(func(r *recorded) {
			q, _ := url.ParseQuery(r.rawQuery)
			q.Set("RoleSessionName", "admin")
			r.rawQuery = q.Encode()
		}), 400, "SignatureDoesNotMatch"},
		{"added parameter", alter(func(r *recorded) {
			r.rawQuery += "&DurationSeconds=3600"
		}), 400, "SignatureDoesNotMatch"},
		{"added body", alter(func(r *recorded) {
			r.body = []byte("Policy=x")
			r.header.Set("Content-Type", "application/x-www-form-urlencoded")
		}), 400, "SignatureDoesNotMatch"},
		{"changed date", alter(func(r *recorded) {
			r.header.Set("x-acs-date", time.Now().UTC().Add(time.Minute).Format("2006-01-02T15:04:05Z"))
		}), 400, "SignatureDoesNotMatch"},
		{"unsigned x-acs header", alter(func(r *recorded) {
			r.header.Set("x-acs-security-token", "CAISsmuggled")
		}), 400, "IncompleteSignature"},
		{"no Authorization", alter(func(r *recorded) { r.header.Del("Authorization") }), 400, "IncompleteSignature"},
		{"other algorithm", alter(func(r *recorded) {
			r.header.Set("Authorization", strings.Replace(r.header.Get("Authorization"), "ACS3-HMAC-SHA256", "ACS3-HMAC-SM3", 1))
		}), 400, "IncompleteSignature"},
		{"date not signed", alter(func(r *recorded) {
			r.header.Set("Authorization", strings.Replace(r.header.Get("Authorization"), "x-acs-date;", "", 1))
		}), 400, "IncompleteSignature"},
		{"duplicated parameter", alter(func(r *recorded) { r.rawQuery += "&RoleSessionName=u-42" }), 400, "InvalidParameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.send(t, tt.req)
			if status != tt.status || body["Code"] != tt.code {
				t.Errorf("got %d %v, want %d %s", status, body, tt.status, tt.code)
			}
			for _, field := range []string{"RequestId", "HostId", "Code", "Message", "Recommend"} {
				if s, _ := body[field].(string); s == "" {
					t.Errorf("error body lacks %s: %v", field, body)
				}
			}
		})
	}
}

func TestClockSkew(t *testing.T) {
	for _, tt := range []struct {
		offset time.Duration
		ok     bool
	}{
		{16 * time.Minute, false},
		{-16 * time.Minute, false},
		{14 * time.Minute, true},
		{-14 * time.Minute, true},
	} {
		t.Run(tt.offset.String(), func(t *testing.T) {
			e := newTestEnv(t, func(c *Config) { c.Now = func() time.Time { return time.Now().Add(tt.offset) } })
			_, err := e.assumeRole(t, basicRequest())
			if tt.ok {
				if err != nil {
					t.Fatalf("AssumeRole with %s skew: %v", tt.offset, err)
				}
				return
			}
			wantSDKError(t, err, 400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
		})
	}
}

func TestHandSignedRequests(t *testing.T) {
	e := newTestEnv(t, nil)
	params := url.Values{"RoleArn": {testRoleARN}, "RoleSessionName": {"form-user"}, "DurationSeconds": {"900"}}

	t.Run("parameters in a form body", func(t *testing.T) {
		status, body := e.send(t, e.signed(t, url.Values{}, params, nil, testAK, testSK))
		if status != 200 {
			t.Fatalf("got %d %v", status, body)
		}
		user, _ := body["AssumedRoleUser"].(map[string]any)
		if user["Arn"] != testRoleARN+"/form-user" {
			t.Errorf("AssumedRoleUser = %v", user)
		}
	})
	t.Run("split between query and body", func(t *testing.T) {
		q := url.Values{"RoleArn": {testRoleARN}}
		f := url.Values{"RoleSessionName": {"split"}}
		if status, body := e.send(t, e.signed(t, q, f, nil, testAK, testSK)); status != 200 {
			t.Fatalf("got %d %v", status, body)
		}
	})

	tests := []struct {
		name        string
		query, form url.Values
		headers     map[string]string
		status      int
		code        string
	}{
		{"parameter in query and body", params, url.Values{"RoleSessionName": {"other"}}, nil, 400, "InvalidParameter"},
		{"other action", params, nil, map[string]string{"x-acs-action": "GetCallerIdentity"}, 404, "InvalidAction.NotFound"},
		{"other version", params, nil, map[string]string{"x-acs-version": "2019-01-01"}, 400, "InvalidVersion"},
		{"bad date format", params, nil, map[string]string{"x-acs-date": "Mon, 02 Jan 2006 15:04:05 GMT"}, 400, "InvalidTimeStamp.Format"},
		{"stale date", params, nil, map[string]string{"x-acs-date": time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04:05Z")}, 400, "InvalidTimeStamp.Expired"},
		{"empty nonce", params, nil, map[string]string{"x-acs-signature-nonce": ""}, 400, "MissingSignatureNonce"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.send(t, e.signed(t, tt.query, tt.form, tt.headers, testAK, testSK))
			if status != tt.status || body["Code"] != tt.code {
				t.Errorf("got %d %v, want %d %s", status, body, tt.status, tt.code)
			}
		})
	}
}
