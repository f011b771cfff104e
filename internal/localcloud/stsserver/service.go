// Package stsserver is a local STS endpoint that the real Alibaba Cloud STS SDK
// can call unchanged: AssumeRole over the ACS3-HMAC-SHA256 signed RPC wire
// format. It mints temporary credentials whose security token is
// self-contained and sealed with a key persisted in the data directory, so the
// local OSS endpoint can authenticate them (Resolve) across restarts without
// any token store.
package stsserver

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ossup/ossup/internal/localcloud/rampolicy"
)

// Role is a RAM role that callers may assume.
type Role struct {
	// ARN is acs:ram::<account>:role/<name>; the account must be Config.AccountID.
	ARN string
	// Policy is the role's permission policy (RAM JSON). Sessions get at most
	// this; a session policy can only narrow it.
	Policy string
	// MaxSessionDuration bounds DurationSeconds; zero means 3600s.
	MaxSessionDuration time.Duration
}

// Config configures a Service.
type Config struct {
	// AccountID is the numeric account that owns the roles.
	AccountID string
	// Keys maps the AccessKeyId of each caller allowed to call AssumeRole to
	// its secret.
	Keys map[string]string
	// Roles are the roles that can be assumed.
	Roles []Role
	// DataDir holds the token-sealing key, created 0600 on first start and
	// reused afterwards so that tokens survive restarts. Required.
	DataDir string
	// MinDuration is the smallest DurationSeconds accepted; zero means 900s,
	// as real STS. Tests lower it to watch credentials expire.
	MinDuration time.Duration
	// Now is the service clock; nil means time.Now.
	Now func() time.Time
	// Logger receives one record per request; nil discards. Secrets and tokens
	// are never logged.
	Logger *slog.Logger
}

const (
	defaultMinDuration     = 900 * time.Second
	defaultSessionDuration = 3600 * time.Second
	maxSessionDurationCap  = 12 * time.Hour
)

// Service is the STS endpoint. It is safe for concurrent use.
type Service struct {
	accountID   string
	keys        map[string]string
	roles       map[string]*roleEntry
	minDuration time.Duration
	now         func() time.Time
	log         *slog.Logger
	sealer      *sealer
	nonces      nonceCache
}

type roleEntry struct {
	Role
	name   string
	id     string // numeric role id, as in AssumedRoleId
	policy *rampolicy.Policy
}

var (
	accountIDPattern = regexp.MustCompile(`^[0-9]{1,32}$`)
	roleARNPattern   = regexp.MustCompile(`^acs:ram::([0-9]+):role/([A-Za-z0-9._@-]{1,64})$`)
)

// New validates cfg, loads or creates the sealing key and returns the service.
func New(cfg Config) (*Service, error) {
	if !accountIDPattern.MatchString(cfg.AccountID) {
		return nil, fmt.Errorf("stsserver: AccountID %q must be numeric", cfg.AccountID)
	}
	if cfg.DataDir == "" {
		return nil, errors.New("stsserver: DataDir is required")
	}
	s := &Service{
		accountID:   cfg.AccountID,
		keys:        make(map[string]string, len(cfg.Keys)),
		roles:       make(map[string]*roleEntry, len(cfg.Roles)),
		minDuration: cfg.MinDuration,
		now:         cfg.Now,
		log:         cfg.Logger,
	}
	if s.minDuration == 0 {
		s.minDuration = defaultMinDuration
	}
	if s.minDuration < time.Second {
		return nil, fmt.Errorf("stsserver: MinDuration %s is below one second", s.minDuration)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for id, secret := range cfg.Keys {
		if id == "" || secret == "" {
			return nil, errors.New("stsserver: Keys must not contain empty ids or secrets")
		}
		if strings.HasPrefix(id, stsKeyPrefix) {
			return nil, fmt.Errorf("stsserver: caller key %q must not use the %q prefix of temporary keys", id, stsKeyPrefix)
		}
		s.keys[id] = secret
	}
	for _, r := range cfg.Roles {
		e, err := s.newRoleEntry(r)
		if err != nil {
			return nil, err
		}
		if _, dup := s.roles[r.ARN]; dup {
			return nil, fmt.Errorf("stsserver: role %s configured twice", r.ARN)
		}
		s.roles[r.ARN] = e
	}
	master, err := loadOrCreateKey(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if s.sealer, err = newSealer(master); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Service) newRoleEntry(r Role) (*roleEntry, error) {
	m := roleARNPattern.FindStringSubmatch(r.ARN)
	if m == nil {
		return nil, fmt.Errorf("stsserver: role ARN %q is not acs:ram::<account>:role/<name>", r.ARN)
	}
	if m[1] != s.accountID {
		return nil, fmt.Errorf("stsserver: role %s belongs to account %s, not %s", r.ARN, m[1], s.accountID)
	}
	p, err := rampolicy.Parse([]byte(r.Policy))
	if err != nil {
		return nil, fmt.Errorf("stsserver: policy of role %s: %w", r.ARN, err)
	}
	if r.MaxSessionDuration == 0 {
		r.MaxSessionDuration = defaultSessionDuration
	}
	if r.MaxSessionDuration < s.minDuration || r.MaxSessionDuration > maxSessionDurationCap {
		return nil, fmt.Errorf("stsserver: role %s: MaxSessionDuration %s outside %s..%s",
			r.ARN, r.MaxSessionDuration, s.minDuration, maxSessionDurationCap)
	}
	// Real role ids are opaque 18-19 digit numbers; derive a stable one so
	// AssumedRoleId does not change across restarts.
	sum := sha256.Sum256([]byte(r.ARN))
	id := "3" + fmt.Sprintf("%017d", binary.BigEndian.Uint64(sum[:8])%1e17)
	return &roleEntry{Role: r, name: m[2], id: id, policy: p}, nil
}

// formatLimit renders a duration the way STS error messages do ("15min", "1hr").
func formatLimit(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "hr"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "min"
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}
