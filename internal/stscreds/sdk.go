//go:build !(js && wasm)

package stscreds

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
)

// newAssumer is the official STS SDK everywhere but in the js/wasm build
// (assume_js.go).
func newAssumer(cfg Config) (assumer, error) { return newSDKAssumer(cfg) }

// sdkAssumer calls AssumeRole with the official STS SDK.
type sdkAssumer struct {
	// clients holds *sts.Client values: one is never used by two calls at
	// once, because the SDK client mutates itself on every call
	// (darabonba-openapi v2.1.13 GetRpcHeaders).
	clients   sync.Pool
	newClient func() (*sts.Client, error)
}

func newSDKAssumer(cfg Config) (*sdkAssumer, error) {
	do := cfg.HTTPDo
	if do == nil {
		// Always a client of our own: tea v1.3.13's pooled client rewrites its
		// Timeout on every call while other calls read it, a data race when
		// two uploads are created at once.
		do = (&http.Client{Timeout: stsCallTimeout}).Do
	}
	// sts.NewClient writes into its config, so every client gets a new one.
	newClient := func() (*sts.Client, error) {
		return sts.NewClient(&openapi.Config{
			AccessKeyId:     dara.String(cfg.AccessKeyID),
			AccessKeySecret: dara.String(cfg.AccessKeySecret),
			Endpoint:        dara.String(cfg.Endpoint),
			Protocol:        dara.String(cfg.Protocol),
			HttpClient:      sdkHTTPClient{do},
		})
	}
	// Build one client now so a bad configuration fails at start.
	first, err := newClient()
	if err != nil {
		return nil, err
	}
	s := &sdkAssumer{newClient: newClient}
	s.clients.Put(first)
	return s, nil
}

func (s *sdkAssumer) assumeRole(ctx context.Context, in assumeInput) (*rawCredentials, error) {
	req := &sts.AssumeRoleRequest{
		RoleArn:         dara.String(in.RoleARN),
		RoleSessionName: dara.String(in.SessionName),
		DurationSeconds: dara.Int64(in.DurationSeconds),
		Policy:          dara.String(in.Policy),
	}
	client, ok := s.clients.Get().(*sts.Client)
	if !ok {
		var err error
		if client, err = s.newClient(); err != nil {
			return nil, fmt.Errorf("stscreds: STS client: %w", err)
		}
	}
	resp, err := client.AssumeRoleWithContext(ctx, req, &dara.RuntimeOptions{})
	s.clients.Put(client)
	if err != nil {
		return nil, wrapSTSError(err)
	}
	if resp == nil || resp.Body == nil || resp.Body.Credentials == nil {
		return nil, nil
	}
	rc := resp.Body.Credentials
	return &rawCredentials{
		AccessKeyID:     dara.StringValue(rc.AccessKeyId),
		AccessKeySecret: dara.StringValue(rc.AccessKeySecret),
		SecurityToken:   dara.StringValue(rc.SecurityToken),
		Expiration:      dara.StringValue(rc.Expiration),
	}, nil
}

// wrapSTSError turns an SDK failure into an *STSError when STS answered, and
// otherwise (network, timeout, cancellation) into a wrapped transport error.
func wrapSTSError(err error) error {
	var se *tea.SDKError
	if errors.As(err, &se) && se.Code != nil && *se.Code != "" {
		return &STSError{
			StatusCode: tea.IntValue(se.StatusCode),
			Code:       tea.StringValue(se.Code),
			Message:    tea.StringValue(se.Message),
			Err:        err,
		}
	}
	return fmt.Errorf("stscreds: AssumeRole request failed: %w", err)
}
