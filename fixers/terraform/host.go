package terraform

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Host is what [ForceUnlock] learns about the machine it runs on. Each
// field may be replaced in tests; [RealHost] returns the real ones.
type Host struct {
	// Hostname returns the name terraform records in a lock's Who field.
	Hostname func() (string, error)
	// ToolProcesses returns the PIDs of live terraform and tofu processes.
	ToolProcesses func() ([]int, error)
	// Now returns the current time.
	Now func() time.Time
	// User returns the user name terraform records in a lock's Who field.
	User func() (string, error)
}

// RealHost returns a [Host] backed by the operating system: os.Hostname,
// the processes listed in /proc, and the wall clock.
func RealHost() Host {
	return Host{
		Hostname:      os.Hostname,
		ToolProcesses: func() ([]int, error) { return toolProcesses("/proc") },
		Now:           time.Now,
		User:          currentUser,
	}
}

func currentUser() (string, error) {
	u, err := user.Current()
	if err != nil {
		return "", fmt.Errorf("look up the current user: %w", err)
	}
	return u.Username, nil
}

// who returns this process's holder name as terraform writes it in a
// lock: user@host.
func (h Host) who() (string, error) {
	name, err := h.User()
	if err != nil {
		return "", err
	}
	host, err := h.Hostname()
	if err != nil {
		return "", fmt.Errorf("look up the host name: %w", err)
	}
	return name + "@" + host, nil
}

// toolNames are the programs whose live processes may hold a state lock.
var toolNames = map[string]bool{"terraform": true, "tofu": true}

// toolProcesses lists the live processes under procRoot whose command name
// or executable is terraform or tofu. Zombies are not alive and are left
// out; a process that vanishes while being read is skipped.
func toolProcesses(procRoot string) ([]int, error) {
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return nil, fmt.Errorf("list processes in %s: %w", procRoot, err)
	}

	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !e.IsDir() {
			continue
		}
		dir := filepath.Join(procRoot, e.Name())
		if isTool(dir) && !isDead(dir) {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// isTool reports whether the process in dir runs terraform or tofu, by its
// command name or by the base name of its executable.
func isTool(dir string) bool {
	if comm, err := os.ReadFile(filepath.Join(dir, "comm")); err == nil {
		if toolNames[strings.TrimSpace(string(comm))] {
			return true
		}
	}
	exe, err := os.Readlink(filepath.Join(dir, "exe"))
	if err != nil {
		return false
	}
	return toolNames[filepath.Base(strings.TrimSuffix(exe, " (deleted)"))]
}

// isDead reports whether the process in dir is a zombie or dead, or has
// gone since it was listed.
func isDead(dir string) bool {
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and may
	// itself contain spaces and parentheses.
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return false
	}
	fields := strings.Fields(string(stat[i+1:]))
	return len(fields) > 0 && (fields[0] == "Z" || fields[0] == "X")
}
