package cmd

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/self-heal/self-heal/pkg/pattern"
	"github.com/self-heal/self-heal/pkg/policy"
)

// RepoPatternDir is where a repository keeps its own patterns, relative
// to the working directory.
const RepoPatternDir = ".self-heal/patterns"

// loadPatterns reads the built-ins, the repository's directory and every
// --patterns path, in that order of precedence from low to high, and
// compiles them. Warnings are printed on stderr.
func loadPatterns(env *Env, dir string, extra []string, disabled ...string) (*pattern.Set, error) {
	var layers []pattern.Layer
	builtins, err := pattern.ReadFS(env.Builtins, ".")
	if err != nil {
		return nil, err
	}
	layers = append(layers, pattern.Layer{Name: "builtin", Files: builtins})

	repo, err := pattern.ReadPath(display(env.Dir, filepath.Join(dir, RepoPatternDir)), true)
	if err != nil {
		return nil, err
	}
	layers = append(layers, pattern.Layer{Name: RepoPatternDir, Files: repo})

	for _, p := range extra {
		if strings.TrimSpace(p) == "" {
			continue // an unset CI input maps to an empty flag
		}
		p = display(env.Dir, absFrom(dir, p))
		files, err := pattern.ReadPath(p, false)
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			fmt.Fprintf(env.Stderr, "self-heal: warning: %s holds no pattern files (*.yaml, *.yml)\n", p)
		}
		layers = append(layers, pattern.Layer{Name: p, Files: files})
	}

	if len(disabled) > 0 {
		off := &pattern.File{Path: policy.ConfigPath}
		for _, id := range disabled {
			off.Patterns = append(off.Patterns, &pattern.Pattern{ID: id, Disabled: true,
				Pos: pattern.Position{File: policy.ConfigPath}})
		}
		layers = append(layers, pattern.Layer{Name: policy.ConfigPath, Files: []*pattern.File{off}})
	}

	set, err := pattern.Compile(layers, env.Registry)
	if err != nil {
		return nil, err
	}
	for _, w := range set.Warnings {
		fmt.Fprintf(env.Stderr, "self-heal: warning: %s\n", w)
	}
	return set, nil
}

// display shortens a path under the working directory to a relative one,
// so that positions in messages read as the user wrote them. The process
// runs in env.Dir, so the relative path opens the same file.
func display(wd, p string) string {
	rel, err := filepath.Rel(wd, p)
	if err != nil || strings.HasPrefix(rel, "..") {
		return p
	}
	return rel
}
