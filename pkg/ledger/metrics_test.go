package ledger_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/protobuf/proto"

	"github.com/self-heal/self-heal/pkg/ledger"
)

// receiver is an OTLP/HTTP metrics endpoint that decodes what it gets.
type receiver struct {
	mu       sync.Mutex
	requests []*colmetricspb.ExportMetricsServiceRequest
	headers  []http.Header
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/otlp/v1/metrics" ||
		r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want POST /otlp/v1/metrics with a protobuf body", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := &colmetricspb.ExportMetricsServiceRequest{}
	if err := proto.Unmarshal(body, req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.requests = append(rc.requests, req)
	rc.headers = append(rc.headers, r.Header.Clone())
	rc.mu.Unlock()
	resp, _ := proto.Marshal(&colmetricspb.ExportMetricsServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(resp)
}

// point is one data point in a form tests can compare.
type point struct {
	Metric string
	Attrs  string
	Value  float64
}

func points(req *colmetricspb.ExportMetricsServiceRequest) []point {
	var out []point
	for _, rm := range req.GetResourceMetrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				out = append(out, metricPoints(m)...)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Metric != out[j].Metric {
			return out[i].Metric < out[j].Metric
		}
		return out[i].Attrs < out[j].Attrs
	})
	return out
}

func metricPoints(m *metricspb.Metric) []point {
	var out []point
	if s := m.GetSum(); s != nil {
		if s.GetAggregationTemporality() != metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA {
			return []point{{Metric: m.GetName(), Attrs: "not delta"}}
		}
		for _, p := range s.GetDataPoints() {
			out = append(out, point{m.GetName(), attrs(p.GetAttributes()), float64(p.GetAsInt())})
		}
	}
	if h := m.GetHistogram(); h != nil {
		for _, p := range h.GetDataPoints() {
			out = append(out, point{m.GetName() + " sum", attrs(p.GetAttributes()), p.GetSum()})
		}
	}
	return out
}

func attrs(kvs []*commonpb.KeyValue) string {
	var parts []string
	for _, kv := range kvs {
		parts = append(parts, kv.GetKey()+"="+kv.GetValue().GetStringValue())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func TestExportMetrics(t *testing.T) {
	t.Parallel()
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()

	environ := []string{
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + srv.URL + "/otlp",
		"OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20t0ken,x-team=infra",
		"OTEL_SERVICE_NAME=ci-heal",
		"OTEL_RESOURCE_ATTRIBUTES=deployment.environment=prod",
	}
	cfg, ok, err := ledger.MetricsFromEnv(environ)
	if err != nil || !ok {
		t.Fatalf("MetricsFromEnv = %v, %v; want a configuration", ok, err)
	}
	recs := fixture(t)
	for _, i := range []int{1, 3} { // a healed state-lock run and a refused one
		if err := ledger.ExportMetrics(context.Background(), cfg, recs[i]); err != nil {
			t.Fatalf("ExportMetrics: %v", err)
		}
	}

	if len(rc.requests) != 2 {
		t.Fatalf("receiver got %d requests, want 2", len(rc.requests))
	}
	if got := rc.headers[0].Get("Authorization"); got != "Bearer t0ken" {
		t.Errorf("Authorization header = %q, want the one from OTEL_EXPORTER_OTLP_HEADERS", got)
	}
	res := attrs(rc.requests[0].GetResourceMetrics()[0].GetResource().GetAttributes())
	if res != "deployment.environment=prod,service.name=ci-heal" {
		t.Errorf("resource = %s", res)
	}
	common := "repository=acme/infra,stack=network,tool=terraform"
	fix := "fixer=terraform.force-unlock,pattern=state-lock"
	want := [][]point{{
		{"self_heal.fixes", "fixer=terraform.force-unlock,outcome=applied,pattern=state-lock", 1},
		{"self_heal.heals", fix, 1},
		{"self_heal.runs", "outcome=healed,pattern=state-lock," + common, 1},
		{"self_heal.time_to_heal sum", "pattern=state-lock", 60},
	}, {
		{"self_heal.fixes", "fixer=terraform.force-unlock,outcome=refused,pattern=state-lock", 1},
		{"self_heal.refusals", fix + ",reason=untrusted-trigger", 1},
		{"self_heal.runs", "outcome=refused,pattern=state-lock," + common, 1},
	}}
	for i, req := range rc.requests {
		if diff := cmp.Diff(want[i], points(req)); diff != "" {
			t.Errorf("request %d mismatch (-want +got):\n%s", i, diff)
		}
	}
}

func TestMetricsFromEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		environ  []string
		ok       bool
		endpoint string
		timeout  time.Duration
		wantErr  string
	}{
		{name: "off by default", environ: []string{"HOME=/home/ci"}},
		{name: "generic endpoint", environ: []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4318/"},
			ok: true, endpoint: "http://c:4318/v1/metrics", timeout: 10 * time.Second},
		{name: "metrics endpoint as is", environ: []string{
			"OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4318", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=http://m/x",
			"OTEL_EXPORTER_OTLP_TIMEOUT=2500"},
			ok: true, endpoint: "http://m/x", timeout: 2500 * time.Millisecond},
		{name: "exporter otlp alone", environ: []string{"OTEL_METRICS_EXPORTER=otlp"},
			ok: true, endpoint: "http://localhost:4318/v1/metrics", timeout: 10 * time.Second},
		{name: "exporter none", environ: []string{
			"OTEL_EXPORTER_OTLP_ENDPOINT=http://c", "OTEL_METRICS_EXPORTER=none"}},
		{name: "sdk disabled", environ: []string{
			"OTEL_EXPORTER_OTLP_ENDPOINT=http://c", "OTEL_SDK_DISABLED=true"}},
		{name: "grpc", environ: []string{
			"OTEL_EXPORTER_OTLP_ENDPOINT=http://c", "OTEL_EXPORTER_OTLP_PROTOCOL=grpc"},
			wantErr: "only http/protobuf"},
		{name: "other exporter", environ: []string{"OTEL_METRICS_EXPORTER=prometheus"},
			wantErr: "only otlp"},
		{name: "bad timeout", environ: []string{
			"OTEL_EXPORTER_OTLP_ENDPOINT=http://c", "OTEL_EXPORTER_OTLP_TIMEOUT=soon"},
			wantErr: "milliseconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, ok, err := ledger.MetricsFromEnv(tt.environ)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("MetricsFromEnv = %v, want error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || ok != tt.ok {
				t.Fatalf("MetricsFromEnv = %v, %v; want ok=%v", ok, err, tt.ok)
			}
			if ok && (cfg.Endpoint != tt.endpoint || cfg.Timeout != tt.timeout) {
				t.Errorf("MetricsFromEnv = %s %s, want %s %s", cfg.Endpoint, cfg.Timeout,
					tt.endpoint, tt.timeout)
			}
		})
	}
}

func TestExportMetrics_unreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	cfg := ledger.MetricsConfig{Endpoint: url + "/v1/metrics", Timeout: 2 * time.Second,
		Resource: map[string]string{"service.name": "self-heal"}}
	err := ledger.ExportMetrics(context.Background(), cfg, fixture(t)[0])
	if err == nil || !strings.Contains(err.Error(), "export metrics") {
		t.Errorf("ExportMetrics(closed server) = %v, want an export error", err)
	}
}
