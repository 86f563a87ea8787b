package selfheal

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Flaky is the selfheal_flaky resource: its first `failures` creations or
// updates fail with the failure `failure`, the later ones succeed.
type Flaky struct {
	counter Counter
}

var (
	_ resource.Resource              = (*Flaky)(nil)
	_ resource.ResourceWithConfigure = (*Flaky)(nil)
)

// NewFlaky returns the resource, for the provider's Resources.
func NewFlaky() resource.Resource { return &Flaky{} }

type flakyModel struct {
	ID         types.String `tfsdk:"id"`
	Name       types.String `tfsdk:"name"`
	Failure    types.String `tfsdk:"failure"`
	Failures   types.Int64  `tfsdk:"failures"`
	RetryAfter types.Int64  `tfsdk:"retry_after"`
	Value      types.String `tfsdk:"value"`
}

// Metadata names the resource selfheal_flaky.
func (*Flaky) Metadata(_ context.Context, req resource.MetadataRequest,
	resp *resource.MetadataResponse,
) {
	resp.TypeName = req.ProviderTypeName + "_flaky"
}

// Schema declares the resource's attributes.
func (*Flaky) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A resource that fails on demand and then succeeds.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				Required:      true,
				Description:   "Names the resource and its call count.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"failure": schema.StringAttribute{
				Optional:    true,
				Description: "throttling, retry-after, not-found, iam-propagation or inconsistent.",
			},
			"failures": schema.Int64Attribute{
				Optional:    true,
				Description: "How many calls fail before one succeeds.",
			},
			"retry_after": schema.Int64Attribute{
				Optional:    true,
				Description: "Seconds a retry-after failure asks to wait.",
			},
			"value": schema.StringAttribute{
				Optional:    true,
				Description: "Any text; an inconsistent failure returns another.",
			},
		},
	}
}

// Configure takes the provider's call counter.
func (r *Flaky) Configure(_ context.Context, req resource.ConfigureRequest,
	resp *resource.ConfigureResponse,
) {
	if c, ok := req.ProviderData.(Counter); ok {
		r.counter = c
	}
}

// Create fails or succeeds as planned.
func (r *Flaky) Create(ctx context.Context, req resource.CreateRequest,
	resp *resource.CreateResponse,
) {
	var m flakyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	m.ID = m.Name
	if r.call(&m, &resp.Diagnostics) {
		resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
	}
}

// Update fails or succeeds as planned, like Create.
func (r *Flaky) Update(ctx context.Context, req resource.UpdateRequest,
	resp *resource.UpdateResponse,
) {
	var m flakyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if r.call(&m, &resp.Diagnostics) {
		resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
	}
}

// Read keeps the state as it is: there is nothing remote to read.
func (*Flaky) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

// Delete removes nothing remote.
func (*Flaky) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// call counts one creation or update of m and decides its outcome. It
// adds the failure's error and returns false, or returns true with m
// holding what to store (a drifted value for an inconsistent result).
func (r *Flaky) call(m *flakyModel, diags interface {
	AddError(string, string)
	AddAttributeError(path.Path, string, string)
}) bool {
	kind, err := ParseKind(m.Failure.ValueString())
	if err != nil {
		diags.AddAttributeError(path.Root("failure"), "Invalid failure", err.Error())
		return false
	}
	if kind == "" || m.Failures.ValueInt64() <= 0 {
		return true
	}
	n, err := r.counter.Next(m.Name.ValueString())
	if err != nil {
		diags.AddError("Cannot count calls", err.Error())
		return false
	}
	if int64(n) > m.Failures.ValueInt64() {
		return true
	}
	f := Failure{Kind: kind, Name: m.Name.ValueString(), Call: n,
		RetryAfter: m.RetryAfter.ValueInt64()}
	if kind == Inconsistent {
		m.Value = types.StringValue(fmt.Sprintf("%s-drift-%d", m.Value.ValueString(), n))
		return true
	}
	diags.AddError(f.Message(), "")
	return false
}
