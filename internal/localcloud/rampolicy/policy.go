// Package rampolicy parses RAM policy documents and evaluates them against one
// request, the way the local OSS endpoint needs to enforce the permissions of
// an STS session: the role's policy intersected with the session policy, an
// explicit Deny beating any Allow, and conditions that cannot be evaluated
// failing closed.
package rampolicy

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Policy is a parsed, grammar-checked RAM policy document.
type Policy struct {
	statements []statement
}

type effect int

const (
	effectAllow effect = iota
	effectDeny
)

type statement struct {
	effect effect
	// notAction and notResource invert the sense of the pattern lists.
	actions     []string // lower-cased; actions match case-insensitively
	notAction   bool
	resources   []string
	notResource bool
	conditions  []condition
}

// Parse checks the grammar of a RAM policy document and returns it.
//
// The document is an object with exactly the fields "Version" (the string "1")
// and "Statement" (a non-empty array). Each statement has "Effect" ("Allow" or
// "Deny"), exactly one of "Action"/"NotAction", exactly one of
// "Resource"/"NotResource" (each a non-empty string or non-empty array of
// strings) and optionally "Condition". Unknown fields, duplicate keys, wrong
// types and unknown condition operators are errors.
func Parse(doc []byte) (*Policy, error) {
	v, err := decodeStrict(doc)
	if err != nil {
		return nil, err
	}
	top, ok := v.(*object)
	if !ok {
		return nil, fmt.Errorf("policy must be a JSON object, not %s", typeName(v))
	}
	for _, k := range top.keys {
		if k != "Version" && k != "Statement" {
			return nil, fmt.Errorf("unknown policy field %q", k)
		}
	}
	ver, ok := top.vals["Version"]
	if !ok {
		return nil, errors.New(`missing field "Version"`)
	}
	if s, ok := ver.(string); !ok || s != "1" {
		return nil, fmt.Errorf(`"Version" must be the string "1"`)
	}
	stv, ok := top.vals["Statement"]
	if !ok {
		return nil, errors.New(`missing field "Statement"`)
	}
	list, ok := stv.([]any)
	if !ok {
		return nil, fmt.Errorf(`"Statement" must be an array, not %s`, typeName(stv))
	}
	if len(list) == 0 {
		return nil, errors.New(`"Statement" must not be empty`)
	}
	p := &Policy{statements: make([]statement, 0, len(list))}
	for i, raw := range list {
		st, err := parseStatement(raw)
		if err != nil {
			return nil, fmt.Errorf("Statement[%d]: %w", i, err)
		}
		p.statements = append(p.statements, st)
	}
	return p, nil
}

var statementFields = map[string]bool{
	"Effect": true, "Action": true, "NotAction": true,
	"Resource": true, "NotResource": true, "Condition": true,
}

func parseStatement(raw any) (statement, error) {
	var st statement
	obj, ok := raw.(*object)
	if !ok {
		return st, fmt.Errorf("statement must be an object, not %s", typeName(raw))
	}
	for _, k := range obj.keys {
		if !statementFields[k] {
			return st, fmt.Errorf("unknown statement field %q", k)
		}
	}
	switch e := obj.vals["Effect"]; e {
	case "Allow":
		st.effect = effectAllow
	case "Deny":
		st.effect = effectDeny
	case nil:
		return st, errors.New(`missing field "Effect"`)
	default:
		return st, fmt.Errorf(`"Effect" must be "Allow" or "Deny"`)
	}

	name, val, err := exactlyOne(obj, "Action", "NotAction")
	if err != nil {
		return st, err
	}
	st.notAction = name == "NotAction"
	acts, err := stringList(name, val)
	if err != nil {
		return st, err
	}
	for _, a := range acts {
		if !validAction(a) {
			return st, fmt.Errorf("%s %q is not \"*\" or \"service:action\"", name, a)
		}
		st.actions = append(st.actions, strings.ToLower(a))
	}

	name, val, err = exactlyOne(obj, "Resource", "NotResource")
	if err != nil {
		return st, err
	}
	st.notResource = name == "NotResource"
	if st.resources, err = stringList(name, val); err != nil {
		return st, err
	}
	for _, r := range st.resources {
		if !validResource(r) {
			return st, fmt.Errorf("%s %q is not \"*\" or \"acs:service:region:account:resource\"", name, r)
		}
	}

	if c, ok := obj.vals["Condition"]; ok {
		if st.conditions, err = parseConditions(c); err != nil {
			return st, err
		}
	}
	return st, nil
}

// exactlyOne returns whichever of the two mutually exclusive fields is present.
func exactlyOne(obj *object, a, b string) (string, any, error) {
	va, hasA := obj.vals[a]
	vb, hasB := obj.vals[b]
	switch {
	case hasA && hasB:
		return "", nil, fmt.Errorf("%q and %q are mutually exclusive", a, b)
	case hasA:
		return a, va, nil
	case hasB:
		return b, vb, nil
	}
	return "", nil, fmt.Errorf("missing field %q or %q", a, b)
}

// stringList accepts a non-empty string or a non-empty array of non-empty strings.
func stringList(field string, v any) ([]string, error) {
	switch t := v.(type) {
	case string:
		if t == "" {
			return nil, fmt.Errorf("%q must not be empty", field)
		}
		return []string{t}, nil
	case []any:
		if len(t) == 0 {
			return nil, fmt.Errorf("%q must not be empty", field)
		}
		out := make([]string, 0, len(t))
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%q entries must be strings, not %s", field, typeName(e))
			}
			if s == "" {
				return nil, fmt.Errorf("%q must not contain empty strings", field)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%q must be a string or an array of strings, not %s", field, typeName(v))
}

func validAction(a string) bool {
	if a == "*" {
		return true
	}
	svc, op, ok := strings.Cut(a, ":")
	return ok && svc != "" && op != "" && actionChars(svc) && actionChars(op)
}

// validResource accepts "*" or an ARN with all five fields present; the
// relative resource id may itself contain colons.
func validResource(r string) bool {
	if r == "*" {
		return true
	}
	f := strings.SplitN(r, ":", 5)
	return len(f) == 5 && f[0] == "acs" && f[1] != "" && f[4] != ""
}

func actionChars(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '*' || r == '?' || r == '-' || r == '_':
		default:
			return false
		}
	}
	return true
}

// conditionScalar renders a scalar condition value as the string it is
// compared as.
func conditionScalar(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case bool:
		if t {
			return "true", true
		}
		return "false", true
	}
	return "", false
}
