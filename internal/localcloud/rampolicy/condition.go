package rampolicy

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// condition is one operator applied to one key: {"Operator": {"Key": values}}.
type condition struct {
	op     operator
	key    string // lower-cased; condition keys match case-insensitively
	values []string
}

// truth is the outcome of a condition: true, false, or unknown when the key is
// missing from the request or a value cannot be parsed.
type truth int

const (
	truthFalse truth = iota
	truthTrue
	truthUnknown
)

type kind int

const (
	kindString kind = iota
	kindStringFold
	kindStringLike
	kindNumeric
	kindDate
	kindBool
	kindIP
)

type cmp int

const (
	cmpEq cmp = iota
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

// operator describes a condition operator: what values it compares, how, and
// whether its result is negated.
type operator struct {
	name   string
	kind   kind
	cmp    cmp
	negate bool
}

var operators = func() map[string]operator {
	m := map[string]operator{}
	add := func(name string, k kind, c cmp, neg bool) {
		m[name] = operator{name: name, kind: k, cmp: c, negate: neg}
	}
	add("StringEquals", kindString, cmpEq, false)
	add("StringNotEquals", kindString, cmpEq, true)
	add("StringEqualsIgnoreCase", kindStringFold, cmpEq, false)
	add("StringNotEqualsIgnoreCase", kindStringFold, cmpEq, true)
	add("StringLike", kindStringLike, cmpEq, false)
	add("StringNotLike", kindStringLike, cmpEq, true)
	for _, k := range []struct {
		prefix string
		kind   kind
	}{{"Numeric", kindNumeric}, {"Date", kindDate}} {
		add(k.prefix+"Equals", k.kind, cmpEq, false)
		add(k.prefix+"NotEquals", k.kind, cmpEq, true)
		add(k.prefix+"LessThan", k.kind, cmpLt, false)
		add(k.prefix+"LessThanEquals", k.kind, cmpLe, false)
		add(k.prefix+"GreaterThan", k.kind, cmpGt, false)
		add(k.prefix+"GreaterThanEquals", k.kind, cmpGe, false)
	}
	add("Bool", kindBool, cmpEq, false)
	add("IpAddress", kindIP, cmpEq, false)
	add("NotIpAddress", kindIP, cmpEq, true)
	return m
}()

// parseConditions checks a "Condition" block. Operators and keys are walked in
// document order so that errors are reported deterministically.
func parseConditions(v any) ([]condition, error) {
	block, ok := v.(*object)
	if !ok {
		return nil, fmt.Errorf(`"Condition" must be an object, not %s`, typeName(v))
	}
	var out []condition
	for _, opName := range block.keys {
		op, ok := operators[opName]
		if !ok {
			return nil, fmt.Errorf("unknown condition operator %q", opName)
		}
		keys, ok := block.vals[opName].(*object)
		if !ok {
			return nil, fmt.Errorf("condition operator %q must map keys to values, not %s", opName, typeName(block.vals[opName]))
		}
		if len(keys.keys) == 0 {
			return nil, fmt.Errorf("condition operator %q has no keys", opName)
		}
		for _, key := range keys.keys {
			if key == "" {
				return nil, fmt.Errorf("condition operator %q has an empty key", opName)
			}
			vals, err := conditionValues(keys.vals[key])
			if err != nil {
				return nil, fmt.Errorf("condition %s %q: %w", opName, key, err)
			}
			for _, s := range vals {
				if _, ok := parseOperand(op.kind, s, true); !ok {
					return nil, fmt.Errorf("condition %s %q: value %q is not valid for this operator", opName, key, s)
				}
			}
			out = append(out, condition{op: op, key: strings.ToLower(key), values: vals})
		}
	}
	return out, nil
}

func conditionValues(v any) ([]string, error) {
	if s, ok := conditionScalar(v); ok {
		return []string{s}, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("value must be a string, number, boolean or an array of them, not %s", typeName(v))
	}
	if len(arr) == 0 {
		return nil, fmt.Errorf("value list must not be empty")
	}
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		s, ok := conditionScalar(e)
		if !ok {
			return nil, fmt.Errorf("value list entries must be strings, numbers or booleans, not %s", typeName(e))
		}
		out = append(out, s)
	}
	return out, nil
}

// operand is a parsed condition value.
type operand struct {
	s   string
	num float64
	t   time.Time
	b   bool
	pfx netip.Prefix
}

// parseOperand parses s for an operator kind. fromPolicy distinguishes the
// policy side (IP values may be CIDR blocks) from the request side (an IP
// address).
func parseOperand(k kind, s string, fromPolicy bool) (operand, bool) {
	switch k {
	case kindString, kindStringFold, kindStringLike:
		return operand{s: s}, true
	case kindNumeric:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return operand{}, false
		}
		return operand{num: f}, true
	case kindDate:
		t, ok := parseDate(s)
		return operand{t: t}, ok
	case kindBool:
		switch strings.ToLower(s) {
		case "true":
			return operand{b: true}, true
		case "false":
			return operand{b: false}, true
		}
		return operand{}, false
	case kindIP:
		if fromPolicy && strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return operand{}, false
			}
			if p.Addr().Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			return operand{pfx: p.Masked()}, true
		}
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return operand{}, false
		}
		a = a.Unmap()
		return operand{pfx: netip.PrefixFrom(a, a.BitLen())}, true
	}
	return operand{}, false
}

var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"}

// parseDate accepts ISO 8601 date-times (as acs:CurrentTime is rendered),
// plain dates and integer epoch seconds.
func parseDate(s string) (time.Time, bool) {
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 && n < 1<<40 {
		return time.Unix(n, 0).UTC(), true
	}
	return time.Time{}, false
}

// evaluate applies the condition to the request context (keys lower-cased).
// Several policy values are ORed; several request values are ORed too. A
// missing key, or any value that cannot be parsed, makes the result unknown.
func (c condition) evaluate(ctx map[string][]string) truth {
	reqVals := ctx[c.key]
	if len(reqVals) == 0 {
		return truthUnknown
	}
	reqOps := make([]operand, len(reqVals))
	for i, s := range reqVals {
		o, ok := parseOperand(c.op.kind, s, false)
		if !ok {
			return truthUnknown
		}
		reqOps[i] = o
	}
	polOps := make([]operand, len(c.values))
	for i, s := range c.values {
		o, ok := parseOperand(c.op.kind, s, true)
		if !ok {
			return truthUnknown
		}
		polOps[i] = o
	}
	matched := false
	for _, r := range reqOps {
		for _, p := range polOps {
			if compare(c.op, r, p) {
				matched = true
			}
		}
	}
	if matched != c.op.negate {
		return truthTrue
	}
	return truthFalse
}

// compare applies the non-negated form of op to a request value r and a policy
// value p.
func compare(op operator, r, p operand) bool {
	switch op.kind {
	case kindString:
		return r.s == p.s
	case kindStringFold:
		return strings.EqualFold(r.s, p.s)
	case kindStringLike:
		return wildcardMatch(p.s, r.s)
	case kindBool:
		return r.b == p.b
	case kindIP:
		return p.pfx.Contains(r.pfx.Addr())
	case kindNumeric:
		return ordered(op.cmp, cmpFloat(r.num, p.num))
	case kindDate:
		return ordered(op.cmp, r.t.Compare(p.t))
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ordered interprets a three-way comparison of request value to policy value.
func ordered(c cmp, r int) bool {
	switch c {
	case cmpEq:
		return r == 0
	case cmpLt:
		return r < 0
	case cmpLe:
		return r <= 0
	case cmpGt:
		return r > 0
	case cmpGe:
		return r >= 0
	}
	return false
}
