package pattern

import (
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// ImportTerragrunt converts terragrunt's retry settings into patterns: the
// top-level retryable_errors (with retry_max_attempts and
// retry_sleep_interval_sec) and each `errors { retry "name" { ... } }`
// block. Ignore blocks have no equivalent and come back as notes.
func ImportTerragrunt(name string, data []byte) ([]*Pattern, []string, error) {
	file, diags := hclsyntax.ParseConfig(data, name, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, nil, fmt.Errorf("%s", diags.Error())
	}
	body, ok := file.Body.(*hclsyntax.Body)
	if !ok {
		return nil, nil, fmt.Errorf("%s: unexpected HCL body", name)
	}
	var pats []*Pattern
	var notes []string
	if attr, ok := body.Attributes["retryable_errors"]; ok {
		p, err := tgPattern(name, "terragrunt-retryable-errors", attr, body.Attributes,
			"retry_max_attempts", "retry_sleep_interval_sec")
		if err != nil {
			return nil, nil, err
		}
		pats = append(pats, p)
	}
	for _, blk := range body.Blocks {
		if blk.Type != "errors" {
			continue
		}
		for _, inner := range blk.Body.Blocks {
			label := strings.Join(inner.Labels, "-")
			if inner.Type != "retry" {
				notes = append(notes, fmt.Sprintf("%s: errors.%s %q has no pattern equivalent; skipped",
					posOf(inner.TypeRange), inner.Type, label))
				continue
			}
			attr, ok := inner.Body.Attributes["retryable_errors"]
			if !ok {
				continue
			}
			p, err := tgPattern(name, "terragrunt-"+slug(label), attr, inner.Body.Attributes,
				"max_attempts", "sleep_interval_sec")
			if err != nil {
				return nil, nil, err
			}
			pats = append(pats, p)
		}
	}
	if len(pats) == 0 {
		return nil, notes, fmt.Errorf("%s: no retryable_errors found", name)
	}
	return pats, notes, nil
}

func tgPattern(name, id string, errs *hclsyntax.Attribute, attrs hclsyntax.Attributes,
	attemptsKey, sleepKey string,
) (*Pattern, error) {
	list, err := stringList(errs)
	if err != nil {
		return nil, err
	}
	p := &Pattern{
		ID:       id,
		Title:    "Retryable error imported from " + name,
		Category: "timing",
		Hint:     "terragrunt retried this error; self-heal retries it with the same budget.",
		Fixes:    []Fix{{Use: "wait.backoff"}},
		Retry:    Retry{Attempts: 3, Initial: 5 * time.Second, Max: 5 * time.Second, Budget: DefaultRetry.Budget},
		Pos:      Position{File: name, Line: errs.SrcRange.Start.Line, Column: errs.SrcRange.Start.Column},
	}
	for _, re := range list {
		c := Cond{Regex: trimDotStar(re)}
		if err := c.compile(); err != nil {
			return nil, fmt.Errorf("%s: %s: %q: %w", posOf(errs.SrcRange), errs.Name, re, err)
		}
		p.Match.Any = append(p.Match.Any, c)
	}
	if n, ok, err := numberAttr(attrs, attemptsKey); err != nil {
		return nil, err
	} else if ok {
		p.Retry.Attempts = int(n)
	}
	if n, ok, err := numberAttr(attrs, sleepKey); err != nil {
		return nil, err
	} else if ok {
		p.Retry.Initial = time.Duration(n * float64(time.Second))
		p.Retry.Max = p.Retry.Initial
	}
	return p, nil
}

// trimDotStar drops the leading and trailing ".*" terragrunt's anchored
// regexes need; an unanchored search means the same without them.
func trimDotStar(re string) string {
	flags := ""
	if strings.HasPrefix(re, "(?s)") {
		flags, re = "(?s)", re[4:]
	}
	re = strings.TrimPrefix(re, ".*")
	if strings.HasSuffix(re, ".*") && !strings.HasSuffix(re, `\.*`) {
		re = strings.TrimSuffix(re, ".*")
	}
	if flags != "" && strings.Contains(re, ".") {
		re = flags + re
	}
	return re
}

func stringList(attr *hclsyntax.Attribute) ([]string, error) {
	v, diags := attr.Expr.Value(nil)
	if diags.HasErrors() {
		return nil, fmt.Errorf("%s: %s must be a literal list of strings", posOf(attr.SrcRange), attr.Name)
	}
	if !v.Type().IsTupleType() && !v.Type().IsListType() {
		return nil, fmt.Errorf("%s: %s must be a list of strings", posOf(attr.SrcRange), attr.Name)
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.Type() != cty.String {
			return nil, fmt.Errorf("%s: %s must be a list of strings", posOf(attr.SrcRange), attr.Name)
		}
		out = append(out, e.AsString())
	}
	return out, nil
}

func numberAttr(attrs hclsyntax.Attributes, key string) (float64, bool, error) {
	attr, ok := attrs[key]
	if !ok {
		return 0, false, nil
	}
	v, diags := attr.Expr.Value(nil)
	if diags.HasErrors() || v.Type() != cty.Number {
		return 0, false, fmt.Errorf("%s: %s must be a number", posOf(attr.SrcRange), key)
	}
	f, _ := v.AsBigFloat().Float64()
	return f, true, nil
}

func posOf(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}
