package policy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/self-heal/self-heal/pkg/fixer"
	"github.com/self-heal/self-heal/pkg/strictyaml"
)

// ConfigPath is where a repository keeps its configuration, relative to
// the working directory.
const ConfigPath = ".self-heal/config.yaml"

// Config is the repository's `.self-heal/config.yaml`.
type Config struct {
	// Production lists environment-name globs that count as production.
	Production []string
	// Environments set the allowed safety classes per environment glob,
	// in file order; the first glob that matches wins.
	Environments []EnvRule
	// Allow lists explicit allows for destructive fixes in production.
	Allow []AllowRule
	// DisabledFixers and DisabledPatterns are turned off everywhere.
	DisabledFixers   []string
	DisabledPatterns []string
	Budgets          Budgets
	// TrustForks lets fixers with side effects run for fork triggers.
	TrustForks    bool
	TrustForksPos strictyaml.Position
	// Ledger is where runs are recorded (a directory or s3:// URL).
	Ledger string
	// FixerRefs are the fixers the file names (disable.fixers and
	// allow[].fixer), with their places, for checking against the
	// registry.
	FixerRefs []strictyaml.Item
}

// EnvRule allows safety classes in environments matching Match.
type EnvRule struct {
	Match string
	Allow []fixer.Safety
	Pos   strictyaml.Position
}

// AllowRule explicitly allows destructive fixes for a pattern, a stack, a
// fixer, or a combination (every field that is set must match).
type AllowRule struct {
	Pattern string
	Stack   string
	Fixer   string
	Pos     strictyaml.Position
}

// Budgets bound a run; zero values leave the defaults.
type Budgets struct {
	Attempts    int
	HasAttempts bool
	Time        time.Duration
	FixTime     time.Duration
}

// ReadConfig reads the configuration at name; a missing file is an empty
// configuration.
func ReadConfig(name string) (*Config, error) {
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return ParseConfig(name, data)
}

// ParseConfig decodes a configuration strictly, reporting every problem
// with file:line:col.
func ParseConfig(name string, data []byte) (*Config, error) {
	root, err := strictyaml.Document(name, data)
	if err != nil {
		return nil, err
	}
	c := &Config{}
	d := &strictyaml.Decoder{File: name}
	version := 0
	d.Fields(root, "", map[string]func(*yaml.Node){
		"version": func(n *yaml.Node) { version = d.Int(n, "version") },
		"production": func(n *yaml.Node) {
			items := d.Items(n, "production")
			for _, it := range items {
				d.Glob(it, it.Value)
			}
			c.Production = strictyaml.Values(items)
		},
		"environments": func(n *yaml.Node) { c.Environments = parseEnvs(d, n) },
		"allow": func(n *yaml.Node) {
			var refs []strictyaml.Item
			c.Allow, refs = parseAllows(d, n)
			c.FixerRefs = append(c.FixerRefs, refs...)
		},
		"disable": func(n *yaml.Node) { parseDisable(d, n, c) },
		"budgets": func(n *yaml.Node) { c.Budgets = parseBudgets(d, n) },
		"trust_forks": func(n *yaml.Node) {
			c.TrustForks = d.Bool(n, "trust_forks")
			c.TrustForksPos = d.Pos(n)
		},
		"ledger": func(n *yaml.Node) { c.Ledger = d.Str(n, "ledger") },
	})
	if root.Kind == yaml.MappingNode && version != 1 {
		d.Errorf(root, "version", "expected version: 1, got %d", version)
	}
	return c, d.Err()
}

func parseEnvs(d *strictyaml.Decoder, n *yaml.Node) []EnvRule {
	if n.Kind != yaml.MappingNode {
		d.Errorf(n, "environments", "expected a mapping of environment glob to settings, got %s",
			strictyaml.KindName(n))
		return nil
	}
	var out []EnvRule
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := "environments." + k.Value
		r := EnvRule{Match: k.Value, Pos: d.Pos(k)}
		d.Glob(strictyaml.Item{Value: k.Value, Path: p, Pos: d.Pos(k)}, k.Value)
		d.Fields(v, p, map[string]func(*yaml.Node){
			"allow": func(a *yaml.Node) { r.Allow = parseClasses(d, a, p+".allow") },
		})
		out = append(out, r)
	}
	return out
}

func parseClasses(d *strictyaml.Decoder, n *yaml.Node, p string) []fixer.Safety {
	var out []fixer.Safety
	for i, s := range d.Strings(n, p) {
		c, err := fixer.ParseSafety(s)
		if err != nil {
			at := n
			if n.Kind == yaml.SequenceNode {
				at = n.Content[i]
			}
			d.Errorf(at, p, "%v", err)
			continue
		}
		out = append(out, c)
	}
	return out
}

func parseAllows(d *strictyaml.Decoder, n *yaml.Node) (out []AllowRule, refs []strictyaml.Item) {
	if n.Kind != yaml.SequenceNode {
		d.Errorf(n, "allow", "expected a list of {pattern, stack, fixer}, got %s", strictyaml.KindName(n))
		return nil, nil
	}
	for i, e := range n.Content {
		p := fmt.Sprintf("allow[%d]", i)
		r := AllowRule{Pos: d.Pos(e)}
		d.Fields(e, p, map[string]func(*yaml.Node){
			"pattern": func(v *yaml.Node) { r.Pattern = d.Str(v, p+".pattern") },
			"stack": func(v *yaml.Node) {
				r.Stack = d.Str(v, p+".stack")
				d.Glob(strictyaml.Item{Value: r.Stack, Path: p + ".stack", Pos: d.Pos(v)}, r.Stack)
			},
			"fixer": func(v *yaml.Node) {
				r.Fixer = d.Str(v, p+".fixer")
				refs = append(refs, strictyaml.Item{Value: r.Fixer, Path: p + ".fixer", Pos: d.Pos(v)})
			},
		})
		if r.Pattern == "" && r.Stack == "" && r.Fixer == "" && e.Kind == yaml.MappingNode {
			d.Errorf(e, p, "an allow needs at least one of pattern, stack or fixer")
		}
		out = append(out, r)
	}
	return out, refs
}

func parseDisable(d *strictyaml.Decoder, n *yaml.Node, c *Config) {
	d.Fields(n, "disable", map[string]func(*yaml.Node){
		"fixers": func(v *yaml.Node) {
			items := d.Items(v, "disable.fixers")
			c.FixerRefs = append(c.FixerRefs, items...)
			c.DisabledFixers = strictyaml.Values(items)
		},
		"patterns": func(v *yaml.Node) { c.DisabledPatterns = d.Strings(v, "disable.patterns") },
	})
}

func parseBudgets(d *strictyaml.Decoder, n *yaml.Node) Budgets {
	var b Budgets
	d.Fields(n, "budgets", map[string]func(*yaml.Node){
		"attempts": func(v *yaml.Node) {
			b.Attempts, b.HasAttempts = d.Int(v, "budgets.attempts"), true
			if b.Attempts < 0 {
				d.Errorf(v, "budgets.attempts", "must not be negative")
			}
		},
		"time":     func(v *yaml.Node) { b.Time = d.Duration(v, "budgets.time") },
		"fix_time": func(v *yaml.Node) { b.FixTime = d.Duration(v, "budgets.fix_time") },
	})
	return b
}

// Apply folds the configuration into p. Settings already made on p (from
// flags) win over the file.
func (c *Config) Apply(p *Policy) {
	if len(p.ProductionGlobs) == 0 {
		p.ProductionGlobs = c.Production
	}
	if len(p.Allow) == 0 {
		for _, r := range c.Environments {
			if ok, _ := path.Match(strings.ToLower(r.Match), strings.ToLower(p.Environment)); ok {
				p.Allow = r.Allow
				p.AllowSource = fmt.Sprintf("%s environments.%s.allow", r.Pos, r.Match)
				break
			}
		}
	}
	p.Explicit = append(p.Explicit, c.Allow...)
	p.DisabledFixers = append(p.DisabledFixers, c.DisabledFixers...)
	if c.TrustForks {
		p.TrustForks = true
		p.TrustSource = c.TrustForksPos.String() + " trust_forks"
	}
}
