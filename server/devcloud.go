package server

// The local cloud's well-known names, LoadConfig's defaults. They are spelled
// out here rather than taken from internal/localcloud so that the Workers
// build, which shares LoadConfig, does not link (and initialise on every
// request) the local cloud; TestDevDefaultsMatchLocalCloud keeps them equal.
const (
	devRoleARN = "acs:ram::1000000000000000:role/ossup-uploader"
	devBucket  = "dev-bucket"
	devRegion  = "cn-hangzhou"
)
