//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/self-heal/self-heal/pkg/report"
)

// k8sScene is a VPC that an EKS cluster "demo" used: the cloud provider
// and the load balancer controller left load balancers, a target group and
// a k8s-elb group that the node group's group still lets in. An internal
// load balancer of no cluster and one of cluster "other" share the VPC.
type k8sScene struct {
	vpc, igw, alb, tg, classic, elbGroup, nodeGroup, plainLB, otherLB string
}

func lbTags(kv ...string) []elbv2types.Tag {
	var tags []elbv2types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		tags = append(tags, elbv2types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return tags
}

func buildK8sScene(t *testing.T, w *awsWorld) k8sScene {
	t.Helper()
	var s k8sScene
	owned := "kubernetes.io/cluster/demo"
	vpc, err := w.ec2.CreateVpc(awsCtx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.40.0.0/16"),
		TagSpecifications: ec2TagSpec(ec2types.ResourceTypeVpc, owned, "shared")})
	noErr(t, err, "create vpc")
	s.vpc = aws.ToString(vpc.Vpc.VpcId)
	a := subnet(t, w, s.vpc, "10.40.1.0/24", "us-east-1a")
	b := subnet(t, w, s.vpc, "10.40.2.0/24", "us-east-1b")
	igw, err := w.ec2.CreateInternetGateway(awsCtx, &ec2.CreateInternetGatewayInput{})
	noErr(t, err, "create internet gateway")
	s.igw = aws.ToString(igw.InternetGateway.InternetGatewayId)
	_, err = w.ec2.AttachInternetGateway(awsCtx, &ec2.AttachInternetGatewayInput{
		InternetGatewayId: &s.igw, VpcId: &s.vpc})
	noErr(t, err, "attach internet gateway")

	lb := func(name string, scheme elbv2types.LoadBalancerSchemeEnum, tags ...string) string {
		out, err := w.elbv2.CreateLoadBalancer(awsCtx, &elbv2.CreateLoadBalancerInput{
			Name: aws.String(name), Subnets: []string{a, b}, Scheme: scheme, Tags: lbTags(tags...)})
		noErr(t, err, "create load balancer %s", name)
		return aws.ToString(out.LoadBalancers[0].LoadBalancerArn)
	}
	s.alb = lb("k8s-default-web", elbv2types.LoadBalancerSchemeEnumInternetFacing,
		"elbv2.k8s.aws/cluster", "demo", "ingress.k8s.aws/stack", "default/web")
	s.plainLB = lb("internal-api", elbv2types.LoadBalancerSchemeEnumInternal)
	s.otherLB = lb("k8s-other-api", elbv2types.LoadBalancerSchemeEnumInternal,
		"kubernetes.io/cluster/other", "owned")
	tg, err := w.elbv2.CreateTargetGroup(awsCtx, &elbv2.CreateTargetGroupInput{
		Name: aws.String("k8s-default-web"), Protocol: elbv2types.ProtocolEnumHttp,
		Port: aws.Int32(80), VpcId: &s.vpc, Tags: lbTags("elbv2.k8s.aws/cluster", "demo")})
	noErr(t, err, "create target group")
	s.tg = aws.ToString(tg.TargetGroups[0].TargetGroupArn)

	s.classic = "a1b2c3d4e5"
	_, err = w.elb.CreateLoadBalancer(awsCtx, &elb.CreateLoadBalancerInput{
		LoadBalancerName: &s.classic, Subnets: []string{a}, Scheme: aws.String("internet-facing"),
		Listeners: []elbtypes.Listener{{Protocol: aws.String("TCP"), LoadBalancerPort: 80,
			InstancePort: aws.Int32(30080)}},
		Tags: []elbtypes.Tag{{Key: aws.String(owned), Value: aws.String("owned")}}})
	noErr(t, err, "create classic load balancer")

	s.elbGroup = w.group(s.vpc, "k8s-elb-"+s.classic, owned, "owned")
	s.nodeGroup = w.group(s.vpc, "demo-node", owned, "owned")
	w.allow(s.nodeGroup, s.elbGroup, false)
	return s
}

// k8sLeft says which of a k8sScene's resources still exist.
func (w *awsWorld) k8sLeft(s k8sScene) []string {
	w.t.Helper()
	var left []string
	lbs, err := w.elbv2.DescribeLoadBalancers(awsCtx, &elbv2.DescribeLoadBalancersInput{})
	noErr(w.t, err, "describe load balancers")
	for _, lb := range lbs.LoadBalancers {
		left = append(left, aws.ToString(lb.LoadBalancerArn))
	}
	tgs, err := w.elbv2.DescribeTargetGroups(awsCtx, &elbv2.DescribeTargetGroupsInput{})
	noErr(w.t, err, "describe target groups")
	for _, tg := range tgs.TargetGroups {
		left = append(left, aws.ToString(tg.TargetGroupArn))
	}
	cls, err := w.elb.DescribeLoadBalancers(awsCtx, &elb.DescribeLoadBalancersInput{})
	noErr(w.t, err, "describe classic load balancers")
	for _, lb := range cls.LoadBalancerDescriptions {
		left = append(left, aws.ToString(lb.LoadBalancerName))
	}
	for _, g := range []string{s.elbGroup, s.nodeGroup} {
		if rules := w.groupRules(g); rules != nil {
			left = append(left, g+fmt.Sprint(rules))
		}
	}
	return left
}

// TestAWSK8sLB_LeftoversDeleted heals an internet gateway detach that the
// load balancers of a deleted cluster block: only what the cluster owned
// goes, the node group's rule is revoked, and the re-run detaches.
func TestAWSK8sLB_LeftoversDeleted(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	w.withGuard()
	s := buildK8sScene(t, w)

	h := w.run(nil, "aws", "ec2", "detach-internet-gateway", "--internet-gateway-id", s.igw,
		"--vpc-id", s.vpc)
	h.exitIs(t, 0)
	h.outcomeIs(t, report.Healed)
	f := h.fixOf(t, "eks-lb-blocking-vpc", "aws.delete-k8s-load-balancers")
	wantApplied(t, f, "deleted load balancer "+s.alb, "deleted target group "+s.tg,
		"deleted classic load balancer "+s.classic,
		"revoked ingress tcp 443 of "+s.nodeGroup+" from "+s.elbGroup,
		"deleted security group "+s.elbGroup)

	want := fmt.Sprint([]string{s.plainLB, s.otherLB, s.nodeGroup + "[]"})
	if got := fmt.Sprint(w.k8sLeft(s)); got != want {
		t.Errorf("left after healing: %s\nwant %s", got, want)
	}
}

// TestAWSK8sLB_LiveClusterRefused leaves everything alone while the
// cluster still exists, since its controllers would re-create what is
// deleted.
func TestAWSK8sLB_LiveClusterRefused(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	w.withGuard()
	s := buildK8sScene(t, w)
	_, err := w.eks.CreateCluster(awsCtx, &eks.CreateClusterInput{Name: aws.String("demo"),
		RoleArn:            aws.String("arn:aws:iam::123456789012:role/eks"),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: []string{"subnet-1"}}})
	noErr(t, err, "create cluster")
	before := fmt.Sprint(w.k8sLeft(s))

	h := w.run(nil, "aws", "ec2", "detach-internet-gateway", "--internet-gateway-id", s.igw,
		"--vpc-id", s.vpc)
	h.exitIs(t, 255)
	h.outcomeIs(t, report.Refused)
	f := h.fixOf(t, "eks-lb-blocking-vpc", "aws.delete-k8s-load-balancers")
	wantRefused(t, f, "EKS cluster demo still exists (ACTIVE)")
	if got := fmt.Sprint(w.k8sLeft(s)); got != before {
		t.Errorf("after the refusal: %s\nwant untouched: %s", got, before)
	}
}

// eksScene is cluster "demo" with two node groups and a Fargate profile,
// next to cluster "other" with a node group.
func buildEKSScene(t *testing.T, w *awsWorld, ngTags map[string]string) {
	t.Helper()
	for _, name := range []string{"demo", "other"} {
		_, err := w.eks.CreateCluster(awsCtx, &eks.CreateClusterInput{Name: aws.String(name),
			RoleArn:            aws.String("arn:aws:iam::123456789012:role/eks"),
			ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: []string{"subnet-1"}},
			Tags:               map[string]string{"Stack": ourStack}})
		noErr(t, err, "create cluster %s", name)
	}
	ng := func(cluster, name string, tags map[string]string) {
		_, err := w.eks.CreateNodegroup(awsCtx, &eks.CreateNodegroupInput{
			ClusterName: aws.String(cluster), NodegroupName: aws.String(name),
			NodeRole: aws.String("arn:aws:iam::123456789012:role/node"),
			Subnets:  []string{"subnet-1"}, Tags: tags})
		noErr(t, err, "create node group %s", name)
	}
	ng("demo", "ng-a", nil)
	ng("demo", "ng-b", ngTags)
	ng("other", "ng-o", nil)
	_, err := w.eks.CreateFargateProfile(awsCtx, &eks.CreateFargateProfileInput{
		ClusterName: aws.String("demo"), FargateProfileName: aws.String("fp-default"),
		PodExecutionRoleArn: aws.String("arn:aws:iam::123456789012:role/fp"),
		Selectors:           []ekstypes.FargateProfileSelector{{Namespace: aws.String("default")}}})
	noErr(t, err, "create Fargate profile")
}

// eksLeft lists the clusters with their node groups and profiles.
func (w *awsWorld) eksLeft() string {
	w.t.Helper()
	clusters, err := w.eks.ListClusters(awsCtx, &eks.ListClustersInput{})
	noErr(w.t, err, "list clusters")
	var out []string
	for _, c := range clusters.Clusters {
		ngs, err := w.eks.ListNodegroups(awsCtx, &eks.ListNodegroupsInput{ClusterName: &c})
		noErr(w.t, err, "list node groups")
		fps, err := w.eks.ListFargateProfiles(awsCtx, &eks.ListFargateProfilesInput{ClusterName: &c})
		noErr(w.t, err, "list Fargate profiles")
		out = append(out, fmt.Sprintf("%s%v%v", c, ngs.Nodegroups, fps.FargateProfileNames))
	}
	return strings.Join(out, " ")
}

// TestAWSEKS_NodegroupsDeleted heals `aws eks delete-cluster` on a cluster
// that still has node groups and a Fargate profile.
func TestAWSEKS_NodegroupsDeleted(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	buildEKSScene(t, w, nil)

	h := w.run(nil, "aws", "eks", "delete-cluster", "--name", "demo")
	h.exitIs(t, 0)
	h.outcomeIs(t, report.Healed)
	if !strings.Contains(h.output, "Cluster has nodegroups attached") {
		t.Errorf("the first attempt did not meet ResourceInUseException:\n%s", h.output)
	}
	f := h.fixOf(t, "eks-nodegroups-attached", "aws.delete-eks-nodegroups")
	wantApplied(t, f, "deleted node group ng-a of EKS cluster demo",
		"deleted node group ng-b of EKS cluster demo",
		"deleted Fargate profile fp-default of EKS cluster demo")
	if got, want := w.eksLeft(), "other[ng-o][]"; got != want {
		t.Errorf("clusters left: %s, want %s", got, want)
	}
}

// TestAWSEKS_ForeignNodegroupRefused leaves the cluster alone when one of
// its node groups belongs to another stack.
func TestAWSEKS_ForeignNodegroupRefused(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	buildEKSScene(t, w, map[string]string{"Stack": "infra/batch"})

	h := w.run(nil, "aws", "eks", "delete-cluster", "--name", "demo")
	h.exitIs(t, 255)
	h.outcomeIs(t, report.Refused)
	f := h.fixOf(t, "eks-nodegroups-attached", "aws.delete-eks-nodegroups")
	wantRefused(t, f, `node group ng-b of cluster demo belongs to stack "infra/batch"`)
	if got, want := w.eksLeft(), "demo[ng-a ng-b][fp-default] other[ng-o][]"; got != want {
		t.Errorf("clusters left: %s, want %s", got, want)
	}
}

// fillBucket creates a versioned bucket with n keys of two versions each
// and a delete marker on every tenth key.
func (w *awsWorld) fillBucket(name string, n int, tags ...string) {
	w.t.Helper()
	_, err := w.s3.CreateBucket(awsCtx, &s3.CreateBucketInput{Bucket: &name})
	noErr(w.t, err, "create bucket %s", name)
	_, err = w.s3.PutBucketVersioning(awsCtx, &s3.PutBucketVersioningInput{Bucket: &name,
		VersioningConfiguration: &s3types.VersioningConfiguration{
			Status: s3types.BucketVersioningStatusEnabled}})
	noErr(w.t, err, "enable versioning on %s", name)
	if len(tags) > 0 {
		var set []s3types.Tag
		for i := 0; i+1 < len(tags); i += 2 {
			set = append(set, s3types.Tag{Key: aws.String(tags[i]), Value: aws.String(tags[i+1])})
		}
		_, err = w.s3.PutBucketTagging(awsCtx, &s3.PutBucketTaggingInput{Bucket: &name,
			Tagging: &s3types.Tagging{TagSet: set}})
		noErr(w.t, err, "tag bucket %s", name)
	}

	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			key := fmt.Sprintf("assets/%04d.txt", i)
			for v := range 2 {
				_, err := w.s3.PutObject(awsCtx, &s3.PutObjectInput{Bucket: &name, Key: &key,
					Body: strings.NewReader(fmt.Sprintf("version %d", v))})
				if err != nil {
					errs <- err
					return
				}
			}
			if i%10 == 0 {
				_, err := w.s3.DeleteObject(awsCtx, &s3.DeleteObjectInput{Bucket: &name, Key: &key})
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		noErr(w.t, err, "fill bucket %s", name)
	}
}

// bucketEntries counts a bucket's versions and delete markers, or -1 when
// the bucket is gone.
func (w *awsWorld) bucketEntries(name string) int {
	w.t.Helper()
	n := 0
	p := s3.NewListObjectVersionsPaginator(w.s3, &s3.ListObjectVersionsInput{Bucket: &name})
	for p.HasMorePages() {
		page, err := p.NextPage(awsCtx)
		if err != nil {
			if strings.Contains(err.Error(), "NoSuchBucket") {
				return -1
			}
			noErr(w.t, err, "list versions of %s", name)
		}
		n += len(page.Versions) + len(page.DeleteMarkers)
	}
	return n
}

// TestAWSS3_BucketEmptied heals `aws s3api delete-bucket` on a versioned
// bucket with more entries than one page: every version and delete marker
// goes, then the bucket; another bucket keeps its objects.
func TestAWSS3_BucketEmptied(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	w.fillBucket("assets", 600, "Stack", ourStack)
	w.fillBucket("keep", 5)

	h := w.run(nil, "aws", "s3api", "delete-bucket", "--bucket", "assets")
	h.exitIs(t, 0)
	h.outcomeIs(t, report.Healed)
	f := h.fixOf(t, "s3-bucket-not-empty", "aws.empty-bucket")
	wantApplied(t, f, "deleted 1200 object versions and 60 delete markers from bucket assets")
	if !strings.Contains(h.output, "bucket assets: page 2: deleted 260 entries") {
		t.Errorf("output lacks the second page's progress line:\n%s", h.output)
	}
	if got := w.bucketEntries("assets"); got != -1 {
		t.Errorf("bucket assets still exists with %d entries", got)
	}
	if got := w.bucketEntries("keep"); got != 11 {
		t.Errorf("bucket keep has %d entries, want its 11", got)
	}
}

// TestAWSS3_ForeignBucketRefused leaves another stack's bucket as it is.
func TestAWSS3_ForeignBucketRefused(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	w.fillBucket("shared-assets", 5, "Stack", "infra/cdn")

	h := w.run(nil, "aws", "s3api", "delete-bucket", "--bucket", "shared-assets")
	h.exitIs(t, 255)
	h.outcomeIs(t, report.Refused)
	f := h.fixOf(t, "s3-bucket-not-empty", "aws.empty-bucket")
	wantRefused(t, f, `bucket shared-assets belongs to stack "infra/cdn"`)
	if got := w.bucketEntries("shared-assets"); got != 11 {
		t.Errorf("bucket has %d entries after the refusal, want 11", got)
	}
}

// TestAWSS3_ProductionRefused shows the default policy: a destructive fix
// in production needs an explicit allow, so the bucket keeps its objects.
// The policy decides first; a refused fixer does not even read live state.
func TestAWSS3_ProductionRefused(t *testing.T) {
	t.Parallel()
	w := newAWSWorld(t)
	w.fillBucket("assets", 5, "Stack", ourStack)

	h := w.run([]string{"--environment", "production"},
		"aws", "s3api", "delete-bucket", "--bucket", "assets")
	h.exitIs(t, 255)
	h.outcomeIs(t, report.Refused)
	f := h.fixOf(t, "s3-bucket-not-empty", "aws.empty-bucket")
	if f.Verdict != "unchecked" {
		t.Errorf("verdict = %q, want unchecked (the policy refuses before any live check)", f.Verdict)
	}
	wantRefused(t, f, "destructive", `"production" is production`)
	if f.Rule != "production-destructive" {
		t.Errorf("refusal rule = %q, want production-destructive", f.Rule)
	}
	if got := w.bucketEntries("assets"); got != 11 {
		t.Errorf("bucket has %d entries after the refusal, want 11", got)
	}
}
