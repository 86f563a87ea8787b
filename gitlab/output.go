package gitlab

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// outputPrefix starts the name of every variable an output becomes.
const outputPrefix = "SELF_HEAL_"

// SetOutput appends name=value to the dotenv report named by
// SELF_HEAL_DOTENV, so that later jobs of the pipeline receive it as the
// variable SELF_HEAL_<NAME> (outcome becomes SELF_HEAL_OUTCOME). The first
// call of a run truncates the file. Without SELF_HEAL_DOTENV it does
// nothing. GitLab's dotenv format has no multi-line values, so a value
// with a line break is an error.
// https://docs.gitlab.com/ci/yaml/artifacts_reports/#artifactsreportsdotenv
func (p *Platform) SetOutput(name, value string) error {
	if p.env.dotenv == "" {
		return nil
	}
	if strings.ContainsAny(value, "\r\n") {
		return fmt.Errorf("set output %s: dotenv values must be one line", name)
	}
	key := outputPrefix + dotenvName(name)

	p.mu.Lock()
	defer p.mu.Unlock()
	flags := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	if !p.dotenvOpened {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(p.env.dotenv, flags, 0o644)
	if err != nil {
		return fmt.Errorf("set output %s: %w", name, err)
	}
	p.dotenvOpened = true
	_, werr := fmt.Fprintf(f, "%s=%s\n", key, value)
	if err := errors.Join(werr, f.Close()); err != nil {
		return fmt.Errorf("set output %s: %w", name, err)
	}
	return nil
}

// dotenvName upper-cases name and replaces what a variable name may not
// hold (anything but ASCII letters, digits and '_') with '_'.
func dotenvName(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
			return r
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return '_'
	}, name)
}
