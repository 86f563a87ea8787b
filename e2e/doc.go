// Package e2e holds self-heal's end-to-end tests. They build the binary,
// start moto_server on 127.0.0.1, and heal real terraform failures against
// the s3 backend; package harness does the setting up.
//
// The tests carry the e2e build tag and run one after another, even across
// packages (harness.Run takes a host-wide lock), because the fixers they
// exercise look at the terraform processes alive on the host:
//
//	go test -tags e2e -count=1 ./e2e/...
package e2e
