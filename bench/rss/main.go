// Command rss runs a command with its standard output drained through a
// pipe, and prints the command's peak resident set size as the kernel
// reports it (ru_maxrss, which counts the pages of the binary's file
// mapped in) and the peak of its anonymous resident memory (RssAnon,
// sampled every millisecond from /proc), both in KiB:
//
//	rss -- self-heal run -- cat big.log
//	maxrss_kib=123456 anon_peak_kib=23456
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: rss -- COMMAND [ARG...]")
		os.Exit(2)
	}
	maxRSS, anon, err := measure(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rss:", err)
		os.Exit(1)
	}
	fmt.Printf("maxrss_kib=%d anon_peak_kib=%d\n", maxRSS, anon)
}

func measure(args []string) (maxRSS, anonPeak int64, err error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = io.Discard
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, fmt.Errorf("stdout pipe: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return 0, 0, fmt.Errorf("start: %w", err)
	}
	drained := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, out)
		close(drained)
	}()

	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for sampling := true; sampling; {
		select {
		case <-drained:
			sampling = false
		case <-tick.C:
			anonPeak = max(anonPeak, rssAnon(status))
		}
	}
	if err := cmd.Wait(); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", args[0], err)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, 0, fmt.Errorf("no resource usage")
	}
	return ru.Maxrss, anonPeak, nil
}

// rssAnon reads RssAnon in KiB from a /proc status file, 0 when gone.
func rssAnon(name string) int64 {
	data, err := os.ReadFile(name)
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) >= 2 && string(f[0]) == "RssAnon:" {
			n, _ := strconv.ParseInt(string(f[1]), 10, 64)
			return n
		}
	}
	return 0
}
