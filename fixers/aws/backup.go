package aws

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/self-heal/self-heal/pkg/fixer"
)

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// writeBackup writes v as indented JSON to a new file named after name and
// the time, in the step's artifact directory (a new temporary directory
// when the step has none), and returns its path.
func writeBackup(step fixer.Step, name string, v any) (string, error) {
	dir := step.ArtifactDir
	if dir == "" {
		d, err := os.MkdirTemp("", "self-heal-backup-")
		if err != nil {
			return "", fmt.Errorf("create backup directory: %w", err)
		}
		dir = d
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create artifact directory: %w", err)
	}
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode backup %s: %w", name, err)
	}
	file := fmt.Sprintf("%s-%s.json", unsafeFileChars.ReplaceAllString(name, "_"),
		time.Now().UTC().Format("20060102T150405.000Z"))
	path := filepath.Join(dir, file)
	if err := os.WriteFile(path, append(body, '\n'), 0o600); err != nil {
		return "", fmt.Errorf("write backup: %w", err)
	}
	return path, nil
}
