package redact_test

import (
	"encoding/base64"
	"fmt"

	"github.com/self-heal/self-heal/pkg/redact"
)

func ExampleRedactor() {
	r := redact.New([]string{
		"DB_PASSWORD=hunter2hunter2",
		"AWS_REGION=eu-west-1",
	})
	r.Add("refreshed-session-credential")

	basic := base64.StdEncoding.EncodeToString([]byte("app:hunter2hunter2"))
	fmt.Println(r.String("password hunter2hunter2 in eu-west-1"))
	fmt.Println(r.String(`{"auth":"Basic ` + basic + `"}`))
	fmt.Println(r.String("retry with refreshed-session-credential"))
	fmt.Println(r.String("key AKIAIOSFODNN7EXAMPLE"))
	// Output:
	// password *** in eu-west-1
	// {"auth":"Basic YXBwOm***"}
	// retry with ***
	// key ***
}
