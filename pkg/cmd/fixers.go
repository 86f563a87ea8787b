package cmd

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/self-heal/self-heal/pkg/fixer"
)

func newFixersCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "fixers [NAME]",
		Short: "List the registered fixers, or show one fixer's inputs",
		Long: "Without a name, lists every fixer with its safety class and what it does.\n" +
			"With a name (or an alias), shows that fixer's inputs: their types, defaults and meaning.",
		Example: "self-heal fixers terraform.force-unlock",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return listFixers(env.Stdout, env.Registry)
			}
			f, ok := env.Registry.Lookup(args[0])
			if !ok {
				msg := fmt.Sprintf("no fixer %q", args[0])
				if s := env.Registry.Suggest(args[0]); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				return &usageError{msg: msg + "; `self-heal fixers` lists them", example: c.Example}
			}
			return showFixer(env.Stdout, env.Registry, f)
		},
	}
}

// listFixers prints one line per fixer, aliases after the description.
func listFixers(w io.Writer, reg *fixer.Registry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FIXER\tSAFETY\tDESCRIPTION")
	for _, f := range reg.All() {
		desc := f.Describe()
		if al := reg.Aliases(f.Name()); len(al) > 0 {
			desc += " (also " + strings.Join(al, ", ") + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", f.Name(), f.Safety(), desc)
	}
	return tw.Flush()
}

// showFixer prints one fixer and a table of its inputs.
func showFixer(w io.Writer, reg *fixer.Registry, f fixer.Fixer) error {
	fmt.Fprintf(w, "%s (%s): %s\n", f.Name(), f.Safety(), f.Describe())
	if al := reg.Aliases(f.Name()); len(al) > 0 {
		fmt.Fprintf(w, "aliases: %s\n", strings.Join(al, ", "))
	}
	ins := f.Inputs()
	if len(ins) == 0 {
		_, err := fmt.Fprintln(w, "\nno inputs")
		return err
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INPUT\tTYPE\tDEFAULT\tMEANING")
	for _, in := range ins {
		def := in.Default
		switch {
		case in.Required:
			def = "(required)"
		case def == "":
			def = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", in.Name, in.Type, def, in.Doc)
	}
	return tw.Flush()
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}
