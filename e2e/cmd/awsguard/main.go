// Command awsguard stands in front of the aws CLI in end-to-end tests and
// enforces the preconditions that AWS enforces and moto_server does not.
//
// Built as a program named aws and put first on a step's PATH, it reads the
// command line like the aws CLI, and for the operations it knows it checks
// the precondition against moto's state through the SDK. When the
// precondition fails it prints the error the aws CLI prints for AWS's
// answer, in AWS's current wording, and exits 255 like aws CLI v1. In every
// other case it runs the real aws CLI, the next one on PATH, with the same
// arguments, so the real CLI does the work against moto.
//
// The guards:
//
//   - ec2 delete-security-group: another group's rule or an ENI still uses
//     the group (DependencyViolation).
//   - ec2 delete-subnet: an ENI is still in the subnet (DependencyViolation).
//   - ec2 detach-internet-gateway: a load balancer or an ENI of the VPC has
//     a public address (DependencyViolation).
//   - rds create-db-subnet-group: the name is taken (DBSubnetGroupAlreadyExists).
//   - secretsmanager create-secret: a secret of that name is scheduled for
//     deletion (InvalidRequestException; moto answers with older wording).
//   - s3api create-bucket: a bucket of that name still exists in another
//     region, as while S3 finishes deleting it (OperationAborted).
//   - lambda create-function: the role does not trust Lambda, or it is
//     younger than IAM's propagation delay (InvalidParameterValueException).
//   - acm wait certificate-validated: the certificate is not issued; the
//     real waiter would give up only after 40 minutes.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// awsError is an error AWS answers with.
type awsError struct {
	Code, Operation, Message string
}

// guard checks one operation's precondition. It returns an *awsError when
// AWS would refuse the call, nil when the real CLI may run.
type guard func(ctx context.Context, cfg aws.Config, args []string) (*awsError, error)

var guards = map[string]guard{
	"ec2 delete-security-group":    deleteSecurityGroup,
	"ec2 delete-subnet":            deleteSubnet,
	"ec2 detach-internet-gateway":  detachInternetGateway,
	"rds create-db-subnet-group":   createDBSubnetGroup,
	"secretsmanager create-secret": createSecret,
	"s3api create-bucket":          createBucket,
	"lambda create-function":       createFunction,
	"acm wait":                     waitCertificate,
}

// valueFlags are the aws CLI's global options that take a value.
var valueFlags = map[string]bool{
	"--region": true, "--output": true, "--profile": true, "--endpoint-url": true,
	"--query": true, "--color": true, "--ca-bundle": true, "--cli-read-timeout": true,
	"--cli-connect-timeout": true, "--cli-binary-format": true,
}

func main() {
	args := os.Args[1:]
	if g, ok := guards[command(args)]; ok {
		ctx := context.Background()
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			fail(err)
		}
		refusal, err := g(ctx, cfg, args)
		if err != nil {
			fail(err)
		}
		if refusal != nil {
			if refusal.Code == "" {
				fmt.Fprintf(os.Stderr, "\n%s\n", refusal.Message)
			} else {
				fmt.Fprintf(os.Stderr, "\nAn error occurred (%s) when calling the %s operation: %s\n",
					refusal.Code, refusal.Operation, refusal.Message)
			}
			os.Exit(255)
		}
	}
	runReal(args)
}

// command returns "service operation" of an aws command line.
func command(args []string) string {
	var words []string
	for i := 0; i < len(args) && len(words) < 2; i++ {
		a := args[i]
		switch {
		case valueFlags[a]:
			i++
		case strings.HasPrefix(a, "-"):
		default:
			words = append(words, a)
		}
	}
	return strings.Join(words, " ")
}

// flag returns the value of --name in args.
func flag(args []string, name string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// runReal replaces this process with the next aws on PATH.
func runReal(args []string) {
	self, err := os.Executable()
	if err != nil {
		fail(err)
	}
	selfDir := filepath.Dir(self)
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" || sameDir(dir, selfDir) {
			continue
		}
		path, err := exec.LookPath(filepath.Join(dir, "aws"))
		if err != nil {
			continue
		}
		argv := append([]string{path}, withEndpoint(args)...)
		fail(syscall.Exec(path, argv, os.Environ()))
	}
	fail(errors.New("no aws CLI on PATH after the guard"))
}

// withEndpoint passes AWS_ENDPOINT_URL as --endpoint-url for rds, whose
// client in aws CLI v1 does not read the variable.
func withEndpoint(args []string) []string {
	e := os.Getenv("AWS_ENDPOINT_URL")
	if e == "" || flag(args, "--endpoint-url") != "" || !strings.HasPrefix(command(args), "rds ") {
		return args
	}
	return append([]string{"--endpoint-url", e}, args...)
}

func sameDir(a, b string) bool {
	ai, err1 := os.Stat(a)
	bi, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(ai, bi)
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "awsguard: %v\n", err)
	os.Exit(2)
}
