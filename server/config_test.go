package server

import (
	"strings"
	"testing"
	"time"

	"github.com/ossup/ossup/internal/localcloud"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigDevDefaults(t *testing.T) {
	c, err := LoadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != ModeDev || c.Addr != "127.0.0.1:8080" || c.LocalOSSAddr != "127.0.0.1:9000" ||
		c.LocalSTSAddr != "127.0.0.1:9001" || c.DataDir != "./data" || c.Bucket != "dev-bucket" ||
		c.Region != "cn-hangzhou" || c.RoleARN != localcloud.DevRoleARN ||
		c.AccessKeyID != "" || c.AccessKeySecret != "" || c.UnverifiedMaxAge != 169*time.Hour {
		t.Fatalf("dev defaults differ from the README table: %+v", c)
	}
	if c, err := LoadConfig(env(map[string]string{"OSSUP_TICKET_TTL": "24h"})); err != nil || c.UnverifiedMaxAge != 25*time.Hour {
		t.Fatalf("unverified max age follows the ticket lifetime: %v %v", c.UnverifiedMaxAge, err)
	}
}

func TestConfigCloudModeDerivesEndpoints(t *testing.T) {
	c, err := LoadConfig(env(map[string]string{
		"OSSUP_MODE": "cloud", "OSS_ACCESS_KEY_ID": "LTAIexample", "OSS_ACCESS_KEY_SECRET": "s3cr3t-value",
		"OSSUP_ROLE_ARN": "acs:ram::123456789:role/uploader", "OSSUP_REGION": "cn-shanghai",
		"OSSUP_AUTH": "jwt", "OSSUP_JWT_JWKS_URL": "https://id.example/jwks.json", "OSSUP_SECRET": strings.Repeat("k", 32),
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.OSSEndpoint != "https://oss-cn-shanghai.aliyuncs.com" || c.STSEndpoint != "sts.cn-shanghai.aliyuncs.com" {
		t.Fatalf("endpoints %q %q", c.OSSEndpoint, c.STSEndpoint)
	}
	if strings.Contains(c.String(), "s3cr3t-value") || strings.Contains(c.String(), strings.Repeat("k", 32)) {
		t.Fatalf("String() leaks the secret: %s", c)
	}
}

func TestConfigRejectsWithReasons(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"cloud without role", map[string]string{"OSSUP_MODE": "cloud", "OSS_ACCESS_KEY_ID": "a", "OSS_ACCESS_KEY_SECRET": "b"}, []string{"OSSUP_ROLE_ARN"}},
		{"cloud with dev auth", map[string]string{"OSSUP_MODE": "cloud", "OSSUP_AUTH": "dev"}, []string{"OSSUP_AUTH=token or jwt", "OSSUP_SECRET"}},
		{"token auth without tokens", map[string]string{"OSSUP_AUTH": "token"}, []string{"OSSUP_AUTH_TOKENS"}},
		{"jwt with both keys", map[string]string{"OSSUP_AUTH": "jwt", "OSSUP_JWT_SECRET": strings.Repeat("j", 32), "OSSUP_JWT_JWKS_URL": "https://x/jwks"}, []string{"exactly one of"}},
		{"short secret", map[string]string{"OSSUP_SECRET": "short"}, []string{"OSSUP_SECRET must be at least 32"}},
		{"webhook without secret", map[string]string{"OSSUP_WEBHOOK_URL": "https://app.example/hook"}, []string{"OSSUP_WEBHOOK_SECRET"}},
		{"bad cors origin", map[string]string{"OSSUP_CORS_ORIGINS": "app.example"}, []string{"OSSUP_CORS_ORIGINS"}},
		{"bad scope", map[string]string{"OSSUP_CREDENTIAL_SCOPE": "bucket"}, []string{"OSSUP_CREDENTIAL_SCOPE"}},
		{"sts duration too short", map[string]string{"OSSUP_STS_DURATION": "60s"}, []string{"900 s minimum"}},
		{"part size too small", map[string]string{"OSSUP_PART_SIZE": "1000"}, []string{"OSSUP_PART_SIZE"}},
		{"cloud without keys", map[string]string{"OSSUP_MODE": "cloud", "OSSUP_ROLE_ARN": "acs:ram::1:role/r"}, []string{"OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET"}},
		{"cloud with faults", map[string]string{"OSSUP_MODE": "cloud", "OSS_ACCESS_KEY_ID": "a", "OSS_ACCESS_KEY_SECRET": "b", "OSSUP_ROLE_ARN": "acs:ram::1:role/r", "OSSUP_FAULTS": `{"rules":[{"op":"*","errorRate":0.5}]}`}, []string{"OSSUP_FAULTS only applies"}},
		{"unknown mode", map[string]string{"OSSUP_MODE": "prod"}, []string{`OSSUP_MODE: "prod"`}},
		{"bad role arn", map[string]string{"OSSUP_ROLE_ARN": "arn:aws:iam::1:role/x"}, []string{"OSSUP_ROLE_ARN"}},
		{"half a key pair", map[string]string{"OSS_ACCESS_KEY_ID": "a"}, []string{"must be set together"}},
		{"bad faults", map[string]string{"OSSUP_FAULTS": `{"rules":[{"op":"*","errorRate":2}]}`}, []string{"OSSUP_FAULTS", "errorRate"}},
		{"bad duration", map[string]string{"OSSUP_STS_MIN_DURATION": "soon"}, []string{"OSSUP_STS_MIN_DURATION"}},
		{"bad log level", map[string]string{"OSSUP_LOG_LEVEL": "loud"}, []string{"OSSUP_LOG_LEVEL"}},
		{"several at once", map[string]string{"OSSUP_MODE": "cloud", "OSSUP_LOG_LEVEL": "loud"}, []string{"OSSUP_ROLE_ARN", "OSSUP_LOG_LEVEL", "OSS_ACCESS_KEY_ID"}},
		{"oss endpoint in dev mode", map[string]string{"OSSUP_OSS_ENDPOINT": "https://tunnel.example"}, []string{"OSSUP_OSS_ENDPOINT", "would be ignored", "OSSUP_PUBLIC_OSS_ENDPOINT"}},
		{"sts endpoint in dev mode", map[string]string{"OSSUP_STS_ENDPOINT": "sts.cn-hangzhou.aliyuncs.com"}, []string{"OSSUP_STS_ENDPOINT", "would be ignored"}},
		{"http oss endpoint in cloud mode", cloudEnv(map[string]string{"OSSUP_OSS_ENDPOINT": "http://oss-cn-hangzhou.aliyuncs.com"}), []string{"OSSUP_OSS_ENDPOINT", "plain http", "https://"}},
		{"http sts endpoint in cloud mode", cloudEnv(map[string]string{"OSSUP_STS_ENDPOINT": "http://sts.cn-hangzhou.aliyuncs.com"}), []string{"OSSUP_STS_ENDPOINT", "plain http"}},
		{"http public endpoint in cloud mode", cloudEnv(map[string]string{"OSSUP_PUBLIC_OSS_ENDPOINT": "http://files.example.com"}), []string{"OSSUP_PUBLIC_OSS_ENDPOINT", "plain http"}},
		{"internal public endpoint", cloudEnv(map[string]string{"OSSUP_PUBLIC_OSS_ENDPOINT": "https://oss-cn-hangzhou-internal.aliyuncs.com"}), []string{"OSSUP_PUBLIC_OSS_ENDPOINT", "internal endpoint"}},
		{"public endpoint with a path", map[string]string{"OSSUP_PUBLIC_OSS_ENDPOINT": "https://tunnel.example/oss"}, []string{"OSSUP_PUBLIC_OSS_ENDPOINT", "origin"}},
		{"ten-year ticket", map[string]string{"OSSUP_TICKET_TTL": "87600h"}, []string{"OSSUP_TICKET_TTL", "30 days"}},
		{"one-second ticket in cloud mode", cloudEnv(map[string]string{"OSSUP_TICKET_TTL": "1s"}), []string{"OSSUP_TICKET_TTL", "shorter than a minute"}},
		{"api only with a web dir", map[string]string{"OSSUP_API_ONLY": "true", "OSSUP_WEB_DIR": "/srv/web"}, []string{"OSSUP_API_ONLY=true serves no files", "OSSUP_WEB_DIR"}},
		{"api only not a bool", map[string]string{"OSSUP_API_ONLY": "yes"}, []string{"OSSUP_API_ONLY", "neither true nor false"}},
		{"janitor younger than tickets", map[string]string{"OSSUP_TICKET_TTL": "200h"}, []string{"OSSUP_JANITOR_MAX_AGE", "OSSUP_TICKET_TTL"}},
		{"unverified reaped while tickets live", map[string]string{"OSSUP_UNVERIFIED_MAX_AGE": "168h"}, []string{"OSSUP_UNVERIFIED_MAX_AGE", "shorter than OSSUP_TICKET_TTL (168h0m0s) plus a minute"}},
		{"unverified max age under an hour", map[string]string{"OSSUP_TICKET_TTL": "10s", "OSSUP_JANITOR_MAX_AGE": "1h", "OSSUP_UNVERIFIED_MAX_AGE": "30m"}, []string{"OSSUP_UNVERIFIED_MAX_AGE", "under an hour"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(env(tc.env))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestConfigDevOnlySettings(t *testing.T) {
	c, err := LoadConfig(env(map[string]string{"OSSUP_STS_MIN_DURATION": "5s", "OSSUP_FAULTS": `{"seed":7,"rules":[{"op":"UploadPart","errorRate":0.1}]}`}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MinSTSDuration != 5*time.Second || c.Faults.Seed != 7 || len(c.Faults.Rules) != 1 {
		t.Fatalf("dev settings not read: %+v", c)
	}
}

// cloudEnv is a valid cloud-mode configuration with extra on top.
// (This file builds for js/wasm too, where merge and the tokens of the
// native tests do not exist.)
func cloudEnv(extra map[string]string) map[string]string {
	e := map[string]string{
		"OSSUP_MODE": "cloud", "OSS_ACCESS_KEY_ID": "LTAIexample", "OSS_ACCESS_KEY_SECRET": "s3cr3t-value",
		"OSSUP_ROLE_ARN": "acs:ram::123456789:role/uploader", "OSSUP_AUTH": "token", "OSSUP_AUTH_TOKENS": "tok-config-0123456789abcdef=alice",
		"OSSUP_SECRET": strings.Repeat("k", 32),
	}
	for k, v := range extra {
		e[k] = v
	}
	return e
}

func TestConfigAcceptsLoopbackHTTPAndPublicEndpoint(t *testing.T) {
	for _, e := range []map[string]string{
		cloudEnv(map[string]string{"OSSUP_OSS_ENDPOINT": "http://127.0.0.1:9000", "OSSUP_STS_ENDPOINT": "http://127.0.0.1:9001"}),
		cloudEnv(map[string]string{"OSSUP_PUBLIC_OSS_ENDPOINT": "https://oss-cn-hangzhou.aliyuncs.com", "OSSUP_OSS_ENDPOINT": "https://oss-cn-hangzhou-internal.aliyuncs.com"}),
		{"OSSUP_PUBLIC_OSS_ENDPOINT": "https://oss-tunnel.example"},
	} {
		if _, err := LoadConfig(env(e)); err != nil {
			t.Errorf("%v: %v", e, err)
		}
	}
}
