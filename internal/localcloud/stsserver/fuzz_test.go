package stsserver

import (
	"errors"
	"testing"
	"time"
)

func newFuzzService(f *testing.F) *Service {
	f.Helper()
	s, err := New(Config{
		AccountID:   testAccount,
		Keys:        map[string]string{testAK: testSK},
		Roles:       []Role{{ARN: testRoleARN, Policy: testRolePolicy}},
		DataDir:     f.TempDir(),
		MinDuration: time.Second,
	})
	if err != nil {
		f.Fatal(err)
	}
	return s
}

// FuzzAssumeRoleParams feeds arbitrary parameter values to the AssumeRole
// validation: it must never panic, must answer with a client error or with
// credentials, and the credentials it mints must resolve to what was asked.
func FuzzAssumeRoleParams(f *testing.F) {
	s := newFuzzService(f)
	f.Add(testRoleARN, "u-42", "900", testSessionPolicy, "abcd1234", "alice")
	f.Add("", "", "", "", "", "")
	f.Add(testRoleARN, "a", "-1", "{", "x", " ")
	f.Add("acs:ram::1:role/x", "名字", "99999999999999999999", `{"Version":"1","Statement":[]}`, "ab cd", "a@b")
	f.Fuzz(func(t *testing.T, arn, name, duration, pol, externalID, sourceIdentity string) {
		params := map[string]string{"RoleArn": arn, "RoleSessionName": name}
		for k, v := range map[string]string{"DurationSeconds": duration, "Policy": pol, "ExternalId": externalID, "SourceIdentity": sourceIdentity} {
			if v != "" {
				params[k] = v
			}
		}
		resp, aerr := s.assumeRole(params, "req")
		if aerr != nil {
			if resp != nil || aerr.status < 400 || aerr.status >= 500 || aerr.code == "" {
				t.Fatalf("bad rejection: %+v %v", resp, aerr)
			}
			return
		}
		sess, err := s.Resolve(resp.Credentials.AccessKeyID, resp.Credentials.SecurityToken, time.Now())
		if err != nil {
			t.Fatalf("minted credentials do not resolve: %v", err)
		}
		if sess.RoleARN != arn || sess.SessionName != name || sess.AccessKeySecret != resp.Credentials.AccessKeySecret {
			t.Fatalf("Resolve = %+v for %v", sess, params)
		}
		if want := 1 + btoi(pol != ""); len(sess.Policies) != want {
			t.Fatalf("%d policies, want %d", len(sess.Policies), want)
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// FuzzResolve checks that arbitrary key ids and tokens never panic and only
// ever fail with one of the three sentinel errors.
func FuzzResolve(f *testing.F) {
	s := newFuzzService(f)
	resp, aerr := s.assumeRole(map[string]string{"RoleArn": testRoleARN, "RoleSessionName": "seed", "Policy": testSessionPolicy}, "req")
	if aerr != nil {
		f.Fatal(aerr)
	}
	f.Add(resp.Credentials.AccessKeyID, resp.Credentials.SecurityToken)
	f.Add("STS.x", "CAIS")
	f.Add("", "")
	f.Add(testAK, "CAISAQ")
	f.Fuzz(func(t *testing.T, keyID, token string) {
		sess, err := s.Resolve(keyID, token, time.Now())
		if err != nil {
			if sess != nil {
				t.Fatal("session returned with an error")
			}
			if !errors.Is(err, ErrUnknownAccessKey) && !errors.Is(err, ErrInvalidToken) && !errors.Is(err, ErrTokenExpired) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if sess.AccessKeyID != keyID || len(sess.Policies) == 0 {
			t.Fatalf("bad session %+v", sess)
		}
	})
}
