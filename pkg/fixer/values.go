package fixer

import (
	"fmt"
	"strconv"
	"time"
)

// Values are a fixer's inputs as text, keyed by input name.
type Values map[string]string

// String returns the value of key, or def when it is unset or empty.
func (v Values) String(key, def string) string {
	if s, ok := v[key]; ok && s != "" {
		return s
	}
	return def
}

// Duration parses key as a Go duration ("10m", "6h"), or returns def when
// it is unset.
func (v Values) Duration(key string, def time.Duration) (time.Duration, error) {
	s, ok := v[key]
	if !ok || s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("input %s: %w", key, err)
	}
	return d, nil
}

// Bool parses key as a boolean, or returns def when it is unset.
func (v Values) Bool(key string, def bool) (bool, error) {
	s, ok := v[key]
	if !ok || s == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("input %s: %w", key, err)
	}
	return b, nil
}

// Int parses key as a decimal integer, or returns def when it is unset.
func (v Values) Int(key string, def int) (int, error) {
	s, ok := v[key]
	if !ok || s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("input %s: %w", key, err)
	}
	return n, nil
}

// Validate checks that every required input is present and every present
// input parses as its declared type. It reports all problems at once.
func Validate(inputs []Input, v Values) error {
	var errs []error
	for _, in := range inputs {
		s, ok := v[in.Name]
		if !ok || s == "" {
			if in.Required && in.Default == "" {
				errs = append(errs, fmt.Errorf("input %s is required", in.Name))
			}
			continue
		}
		if err := checkType(in, s); err != nil {
			errs = append(errs, err)
		}
	}
	return joinErrs(errs)
}

func checkType(in Input, s string) error {
	var err error
	switch in.Type {
	case Duration:
		_, err = time.ParseDuration(s)
	case Bool:
		_, err = strconv.ParseBool(s)
	case Int:
		_, err = strconv.Atoi(s)
	}
	if err != nil {
		return fmt.Errorf("input %s: want %s, got %q", in.Name, in.Type, s)
	}
	return nil
}
