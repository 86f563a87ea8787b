package cmd

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newFixersCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "fixers",
		Short: "List the registered fixers, their safety class and inputs",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "FIXER\tSAFETY\tINPUTS\tDESCRIPTION")
			for _, f := range env.Registry.All() {
				var ins []string
				for _, in := range f.Inputs() {
					s := in.Name + ":" + string(in.Type)
					if in.Required {
						s += "!"
					}
					ins = append(ins, s)
				}
				name := f.Name()
				if al := env.Registry.Aliases(name); len(al) > 0 {
					name += " (" + strings.Join(al, ", ") + ")"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, f.Safety(), strings.Join(ins, " "), f.Describe())
			}
			return tw.Flush()
		},
	}
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
