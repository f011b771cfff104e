package janitor

import (
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/dara"

	"github.com/ossup/ossup/internal/localcloud"
)

// assumeRole returns temporary keys (id, secret, token) limited by policy.
func assumeRole(t testing.TB, cl *localcloud.Cloud, policy string) [3]string {
	t.Helper()
	c, err := sts.NewClient(&openapi.Config{
		AccessKeyId:     dara.String(cl.Config.AccessKeyID),
		AccessKeySecret: dara.String(cl.Config.AccessKeySecret),
		Endpoint:        dara.String(cl.STSHost),
		Protocol:        dara.String("http"),
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.AssumeRole(&sts.AssumeRoleRequest{
		RoleArn:         dara.String(cl.Config.RoleARN),
		RoleSessionName: dara.String("janitor-test"),
		Policy:          dara.String(policy),
	})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	cr := resp.Body.Credentials
	return [3]string{dara.StringValue(cr.AccessKeyId), dara.StringValue(cr.AccessKeySecret), dara.StringValue(cr.SecurityToken)}
}
