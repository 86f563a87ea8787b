package heal

import (
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/self-heal/self-heal/pkg/pattern"
)

// Command is what self-heal understands of a command line: the tool, its
// goal (subcommand) and the stack it works on.
type Command struct {
	Tool  string
	Goal  string
	Stack string
}

// Query is the matcher's view of the command. A program self-heal does not
// know (make, a script) leaves tool and goal open, so that every pattern's
// scope admits what it prints.
func (c Command) Query() pattern.Query {
	if !slices.Contains(pattern.Tools, c.Tool) {
		return pattern.Query{Stack: c.Stack}
	}
	return pattern.Query{Tool: c.Tool, Goal: c.Goal, Stack: c.Stack}
}

// shells run their command from a -c string.
var shells = map[string]bool{"sh": true, "bash": true, "zsh": true, "dash": true}

// terraformFamily share flags, goals and stacks.
var terraformFamily = map[string]bool{"terraform": true, "tofu": true, "terragrunt": true}

// Classify derives tool, goal and stack from a command line and its
// working directory. A shell's -c script is classified by its first
// command; for a program it does not know, only the tool's name is kept.
func Classify(args []string, dir string) Command {
	args = unwrap(args)
	if len(args) == 0 {
		return Command{}
	}
	c := Command{Tool: filepath.Base(args[0])}
	rest := args[1:]
	switch {
	case terraformFamily[c.Tool]:
		c.Goal, dir = terraformGoal(c.Tool, rest, dir)
	case c.Tool == "aws":
		c.Goal = nthWord(rest, 1)
	case c.Tool == "kubectl" || c.Tool == "helm" || c.Tool == "eksctl" || c.Tool == "docker":
		c.Goal = nthWord(rest, 0)
	default:
		return Command{Tool: c.Tool, Stack: stackOf(dir)}
	}
	c.Stack = stackOf(dir)
	return c
}

// unwrap looks through `sh -c "..."` and `env VAR=x cmd` wrappers.
func unwrap(args []string) []string {
	for len(args) > 0 {
		base := filepath.Base(args[0])
		switch {
		case shells[base] && len(args) >= 3 && args[1] == "-c":
			fields := strings.Fields(args[2])
			if len(fields) == 0 || fields[0] == args[0] {
				return args
			}
			args = fields
		case base == "env":
			i := 1
			for i < len(args) && (strings.Contains(args[i], "=") || strings.HasPrefix(args[i], "-")) {
				i++
			}
			args = args[i:]
		default:
			return args
		}
	}
	return args
}

// terraformGoal finds the subcommand, honouring -chdir and terragrunt's
// run-all / run --all forms, and returns the directory it works in.
func terraformGoal(tool string, args []string, dir string) (string, string) {
	var words []string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "-chdir="); ok {
			dir = filepath.Join(dir, v)
			continue
		}
		if v, ok := strings.CutPrefix(a, "--working-dir="); ok && tool == "terragrunt" {
			dir = filepath.Join(dir, v)
			continue
		}
		if !strings.HasPrefix(a, "-") {
			words = append(words, a)
		}
	}
	if len(words) == 0 {
		return "", dir
	}
	if tool == "terragrunt" && (words[0] == "run-all" || words[0] == "run") && len(words) > 1 {
		return words[1], dir
	}
	return words[0], dir
}

func nthWord(args []string, n int) string {
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			continue
		}
		if n == 0 {
			return a
		}
		n--
	}
	return ""
}

// stackOf names a stack by its directory relative to the repository root
// (the nearest parent holding .git), or by the directory itself.
func stackOf(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	for root := abs; ; root = filepath.Dir(root) {
		if _, err := os.Stat(filepath.Join(root, ".git")); err == nil {
			rel, err := filepath.Rel(root, abs)
			if err != nil {
				return abs
			}
			return filepath.ToSlash(rel)
		}
		if root == filepath.Dir(root) {
			return abs
		}
	}
}
