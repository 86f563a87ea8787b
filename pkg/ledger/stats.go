package ledger

import (
	"math"
	"path"
	"sort"
	"time"

	"github.com/self-heal/self-heal/pkg/report"
)

// Filter selects the records [Stats] counts. Empty fields select all.
type Filter struct {
	// Since drops runs that started before it.
	Since time.Time
	// Repo and Stack are globs (path.Match) on the record's repository
	// and stack.
	Repo  string
	Stack string
	// Pattern keeps runs in which this pattern recognised a failure.
	Pattern string
}

// Match reports whether the filter selects r.
func (f Filter) Match(r *Record) bool {
	if !f.Since.IsZero() && r.Time.Before(f.Since) {
		return false
	}
	if f.Repo != "" && !glob(f.Repo, r.Repository) {
		return false
	}
	if f.Stack != "" && !glob(f.Stack, r.Stack) {
		return false
	}
	if f.Pattern != "" && !containsString(r.Patterns(), f.Pattern) {
		return false
	}
	return true
}

func glob(pattern, name string) bool {
	ok, err := path.Match(pattern, name)
	return ok || (err != nil && pattern == name)
}

// DefaultMinutesPerIntervention is the time a person spends on a failed
// step when nothing heals it, for "hours saved".
const DefaultMinutesPerIntervention = 30

// Stats counts records as they are added. Its zero value is not usable;
// call [NewStats]. It is not safe for concurrent use.
type Stats struct {
	minutes  float64
	totals   Totals
	patterns map[string]*tally
	fixers   map[string]*tally
	weeks    map[time.Time]*Week
}

// tally accumulates one pattern's or fixer's numbers.
type tally struct {
	runs, heals int
	tth         []int64
	refusals    map[string]int
}

// NewStats returns empty stats; minutes is the time one manual
// intervention takes (0 or less: [DefaultMinutesPerIntervention]).
func NewStats(minutes float64) *Stats {
	if minutes <= 0 {
		minutes = DefaultMinutesPerIntervention
	}
	return &Stats{
		minutes:  minutes,
		patterns: map[string]*tally{},
		fixers:   map[string]*tally{},
		weeks:    map[time.Time]*Week{},
	}
}

// Add counts one run. Dry runs are counted apart and nowhere else: they
// change nothing and need no person.
func (s *Stats) Add(r *Record) {
	if r.DryRun {
		s.totals.DryRuns++
		return
	}
	healed := r.Outcome == report.Healed
	s.totals.Runs++
	if !r.Failed() {
		return
	}
	s.totals.Failed++
	w := s.week(r.Time)
	w.Failed++
	if healed {
		s.totals.Healed++
		w.Healed++
	}
	if hasUnknown(r) {
		s.totals.Unknown++
	}

	seenP, seenF := map[string]bool{}, map[string]bool{}
	for _, a := range r.Attempts {
		if a.Pattern != "" && !seenP[a.Pattern] {
			seenP[a.Pattern] = true
			s.count(s.patterns, a.Pattern, r, healed)
		}
		for _, f := range a.Fixes {
			if f.Outcome == FixRefused {
				s.refuse(a.Pattern, f)
			}
			if !seenF[f.Fixer] {
				seenF[f.Fixer] = true
				s.count(s.fixers, f.Fixer, r, healed && appliedIn(r, f.Fixer))
			}
		}
	}
}

func (s *Stats) count(m map[string]*tally, name string, r *Record, healed bool) {
	t := m[name]
	if t == nil {
		t = &tally{refusals: map[string]int{}}
		m[name] = t
	}
	t.runs++
	if healed {
		t.heals++
		t.tth = append(t.tth, r.TimeToGreenMS)
	}
}

// refuse counts a refused fix for its pattern and its fixer. The fixer's
// tally is made here if the fix is its first appearance.
func (s *Stats) refuse(pattern string, f Fix) {
	reason := f.Rule
	if reason == "" {
		reason = "refused"
	}
	if pattern != "" {
		if t := s.patterns[pattern]; t != nil {
			t.refusals[reason]++
		}
	}
	t := s.fixers[f.Fixer]
	if t == nil {
		t = &tally{refusals: map[string]int{}}
		s.fixers[f.Fixer] = t
	}
	t.refusals[reason]++
}

func appliedIn(r *Record, fixer string) bool {
	for _, a := range r.Attempts {
		for _, f := range a.Fixes {
			if f.Fixer == fixer && f.Outcome == FixApplied {
				return true
			}
		}
	}
	return false
}

func hasUnknown(r *Record) bool {
	for i := range r.Attempts {
		if r.Attempts[i].Unknown() {
			return true
		}
	}
	return false
}

func (s *Stats) week(t time.Time) *Week {
	start := WeekStart(t)
	w := s.weeks[start]
	if w == nil {
		w = &Week{Start: start}
		s.weeks[start] = w
	}
	return w
}

// WeekStart returns the Monday 00:00 UTC that starts t's ISO week.
func WeekStart(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	back := (int(day.Weekday()) + 6) % 7
	return day.AddDate(0, 0, -back)
}

// Totals are the counts over every run.
type Totals struct {
	Runs int `json:"runs"`
	// Failed counts runs whose first attempt failed.
	Failed int `json:"failed"`
	Healed int `json:"healed"`
	// Unknown counts failed runs with a failure no pattern recognised.
	Unknown int `json:"unknown"`
	// DryRuns counts the dry runs, which no other number includes.
	DryRuns int `json:"dry_runs"`
}

// Row is one pattern's or fixer's line of the stats.
type Row struct {
	Name string `json:"name"`
	// Runs counts the failed runs the pattern recognised, or in which
	// the fixer was planned, applied or refused.
	Runs int `json:"runs"`
	// Heals counts those runs that ended green (for a fixer: after it
	// was applied).
	Heals       int     `json:"heals"`
	SuccessRate float64 `json:"success_rate"`
	// MedianTimeToHeal and P90TimeToHeal are nearest-rank percentiles of
	// the healed runs' time from first failure to green, in seconds.
	MedianTimeToHeal float64        `json:"median_time_to_heal_s"`
	P90TimeToHeal    float64        `json:"p90_time_to_heal_s"`
	Refusals         map[string]int `json:"refusals,omitempty"`
	// NeverGreen is set for patterns that matched but never led to a
	// green run: they may be hiding real failures.
	NeverGreen bool `json:"never_green,omitempty"`
}

// Week is one line of the weekly table.
type Week struct {
	// Start is the Monday that starts the ISO week, 00:00 UTC.
	Start  time.Time `json:"start"`
	Failed int       `json:"failed_runs"`
	Healed int       `json:"healed"`
	// NeedPerson counts failed runs that still needed a person.
	NeedPerson int     `json:"needed_a_person"`
	HoursSaved float64 `json:"hours_saved"`
}

// Summary is what `self-heal stats` shows.
type Summary struct {
	Totals                 Totals  `json:"totals"`
	NeedPerson             int     `json:"needed_a_person"`
	HoursSaved             float64 `json:"hours_saved"`
	MinutesPerIntervention float64 `json:"minutes_per_intervention"`
	// Patterns lists never-green patterns first, then by runs.
	Patterns []Row  `json:"patterns"`
	Fixers   []Row  `json:"fixers"`
	Weeks    []Week `json:"weeks"`
}

// Summary computes the tables from what was added.
func (s *Stats) Summary() Summary {
	out := Summary{
		Totals:                 s.totals,
		NeedPerson:             s.totals.Failed - s.totals.Healed,
		HoursSaved:             hours(s.totals.Healed, s.minutes),
		MinutesPerIntervention: s.minutes,
		Patterns:               rows(s.patterns, true),
		Fixers:                 rows(s.fixers, false),
		Weeks:                  []Week{},
	}
	for _, w := range s.weeks {
		w.NeedPerson = w.Failed - w.Healed
		w.HoursSaved = hours(w.Healed, s.minutes)
		out.Weeks = append(out.Weeks, *w)
	}
	sort.Slice(out.Weeks, func(i, j int) bool { return out.Weeks[i].Start.Before(out.Weeks[j].Start) })
	return out
}

func hours(healed int, minutes float64) float64 {
	return math.Round(float64(healed)*minutes/60*100) / 100
}

func rows(m map[string]*tally, flag bool) []Row {
	out := make([]Row, 0, len(m))
	for name, t := range m {
		r := Row{Name: name, Runs: t.runs, Heals: t.heals, NeverGreen: flag && t.runs > 0 && t.heals == 0}
		if t.runs > 0 {
			r.SuccessRate = math.Round(float64(t.heals)/float64(t.runs)*1000) / 1000
		}
		sort.Slice(t.tth, func(i, j int) bool { return t.tth[i] < t.tth[j] })
		r.MedianTimeToHeal = seconds(percentile(t.tth, 50))
		r.P90TimeToHeal = seconds(percentile(t.tth, 90))
		if len(t.refusals) > 0 {
			r.Refusals = t.refusals
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.NeverGreen != b.NeverGreen {
			return a.NeverGreen
		}
		if a.Runs != b.Runs {
			return a.Runs > b.Runs
		}
		return a.Name < b.Name
	})
	return out
}

// percentile is the nearest-rank p-th percentile of sorted values: the
// value at rank ceil(p/100 * n); 0 for no values.
func percentile(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

func seconds(ms int64) float64 { return float64(ms) / 1000 }
