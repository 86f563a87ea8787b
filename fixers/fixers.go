// Package fixers registers every built-in fixer, under its dotted name and
// the seed-style aliases that older pattern files use.
//
// It only wires; each fixer lives in its own package (terraform, wait) and
// imports nothing of the core but pkg/fixer.
package fixers

import (
	"errors"

	awsfix "github.com/self-heal/self-heal/fixers/aws"
	"github.com/self-heal/self-heal/fixers/helm"
	"github.com/self-heal/self-heal/fixers/kube"
	"github.com/self-heal/self-heal/fixers/terraform"
	"github.com/self-heal/self-heal/fixers/wait"
	"github.com/self-heal/self-heal/pkg/fixer"
)

// Register adds every built-in fixer and its aliases to r. It reports
// every name or alias that is already taken.
func Register(r *fixer.Registry) error {
	return errors.Join(
		r.Register(terraform.NewForceUnlock(terraform.RealHost()),
			"_terraform_unlock_stack"),
		r.Register(wait.Backoff{},
			"_wait_and_retry", "_exponential_backoff_retry", "_wait_a_minute_and_retry"),
		r.Register(&terraform.RepairDigest{}),
		r.Register(terraform.Init{}),
		r.Register(terraform.LockProviders{}),
		r.Register(terraform.NewReplan()),
		r.Register(wait.NewUntil(kube.ServiceEndpoints{},
			awsfix.BucketSettled{}, awsfix.NewRoleAssumable(nil))),
		r.Register(awsfix.DeleteVPCDependencies{}, "_delete_vpc_dependencies"),
		r.Register(awsfix.RevokeSGReferences{}),
		r.Register(awsfix.WaitENIRelease{}),
		r.Register(awsfix.DeleteAvailableENIs{}),
		r.Register(awsfix.DeleteK8sLoadBalancers{}),
		r.Register(awsfix.DeleteEKSNodegroups{}),
		r.Register(awsfix.EmptyBucket{}),
		r.Register(awsfix.DeleteOrphanDBSubnetGroup{}),
		r.Register(awsfix.PurgeDeletedSecret{}),
		r.Register(awsfix.DeleteAutoCreatedLogGroup{}),
		r.Register(awsfix.DetachRoleDependencies{}),
		r.Register(awsfix.WaitCertificate{}),
		r.Register(awsfix.NewRefreshCredentials(nil)),
		r.Register(awsfix.ECRLogin{}),
		r.Register(kube.NewUnstickNamespace()),
		r.Register(kube.NewRemoveFinalizers()),
		r.Register(kube.NewRecreateObject()),
		r.Register(kube.NewRefreshToken()),
		r.Register(helm.NewRecover()),
		r.Register(helm.NewUninstallRelease()),
		r.Register(helm.NewAdoptResource()),
		r.Register(helm.DiagnoseTimeout{}),
	)
}
