// Package ossgosdkv1 holds the conformance tests of the local OSS against the
// OSS Go SDK v1 (github.com/aliyun/aliyun-oss-go-sdk, pinned in go.mod),
// used unchanged: signature V1 and V4 (which SDK v1 signs with Date only),
// root keys and STS credentials from the local STS.
package ossgosdkv1
