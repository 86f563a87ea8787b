package harness

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fake credentials moto is given. The secret is a value found nowhere
// else, since self-heal masks secrets from the environment in its reports.
const (
	accessKeyID     = "AKIAE2EFAKEACCESSKEY"
	secretAccessKey = "e2e-fake-secret-access-key"
)

// TerraformEnv returns the environment for terraform and self-heal in a
// test: this process's environment without its TF_* and AWS_* variables,
// plus a terraform CLI configuration of the test's own, no checkpoint
// calls, automation mode, fake AWS credentials and the moto endpoint.
func TerraformEnv(t testing.TB, endpoint string) []string {
	t.Helper()
	rc := filepath.Join(t.TempDir(), "terraform.rc")
	if err := os.WriteFile(rc, []byte("disable_checkpoint = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TF_") || strings.HasPrefix(kv, "AWS_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"TF_CLI_CONFIG_FILE="+rc,
		"CHECKPOINT_DISABLE=1",
		"TF_IN_AUTOMATION=1",
		"AWS_ACCESS_KEY_ID="+accessKeyID,
		"AWS_SECRET_ACCESS_KEY="+secretAccessKey,
		"AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL="+endpoint,
	)
}
