// Package selfheal is the test provider: one resource, selfheal_flaky,
// that fails on demand the way real AWS resources fail (throttling,
// eventual consistency, IAM propagation, an inconsistent result after
// apply) a given number of times and then succeeds.
//
// It talks to no service. What it needs to remember between terraform
// commands (how many calls each resource has had) lives in files under a
// state directory.
package selfheal

import (
	"context"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Address is the provider's source address in configurations and mirrors.
const Address = "registry.terraform.io/self-heal/selfheal"

// Version is the version the tests publish in their mirror.
const Version = "0.1.0"

// StateDirEnv names the variable that gives the state directory when the
// configuration does not.
const StateDirEnv = "SELFHEAL_STATE_DIR"

// Provider is the selfheal provider.
type Provider struct{}

var _ provider.Provider = (*Provider)(nil)

// New returns the provider, for providerserver.Serve.
func New() provider.Provider { return &Provider{} }

type providerModel struct {
	StateDir types.String `tfsdk:"state_dir"`
}

// Metadata names the provider "selfheal".
func (*Provider) Metadata(_ context.Context, _ provider.MetadataRequest,
	resp *provider.MetadataResponse,
) {
	resp.TypeName = "selfheal"
	resp.Version = Version
}

// Schema declares the optional state_dir.
func (*Provider) Schema(_ context.Context, _ provider.SchemaRequest,
	resp *provider.SchemaResponse,
) {
	resp.Schema = schema.Schema{
		Description: "Resources that fail on demand, for testing self-heal.",
		Attributes: map[string]schema.Attribute{
			"state_dir": schema.StringAttribute{
				Optional:    true,
				Description: "Directory for the call counts; defaults to " + StateDirEnv + ".",
			},
		},
	}
}

// Configure hands the resources a [Counter] in the state directory.
func (*Provider) Configure(ctx context.Context, req provider.ConfigureRequest,
	resp *provider.ConfigureResponse,
) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	dir := cfg.StateDir.ValueString()
	if dir == "" {
		dir = os.Getenv(StateDirEnv)
	}
	resp.ResourceData = Counter{Dir: dir}
}

// Resources returns selfheal_flaky.
func (*Provider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{NewFlaky}
}

// DataSources returns none.
func (*Provider) DataSources(context.Context) []func() datasource.DataSource { return nil }
