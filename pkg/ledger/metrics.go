package ledger

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/self-heal/self-heal/pkg/report"
)

// MetricsConfig says where a run's metrics go. [MetricsFromEnv] reads it
// from the standard OpenTelemetry variables.
type MetricsConfig struct {
	// Endpoint is the full URL of the OTLP/HTTP metrics endpoint.
	Endpoint string
	Headers  map[string]string
	Timeout  time.Duration
	Gzip     bool
	// Resource holds the resource attributes; service.name is always set.
	Resource map[string]string
}

// MetricsFromEnv reads the OTEL_* variables of environ. ok is false when
// metrics are off: no OTLP endpoint is set and OTEL_METRICS_EXPORTER is
// not "otlp", or OTEL_SDK_DISABLED is true, or OTEL_METRICS_EXPORTER is
// "none". Only the http/protobuf protocol is supported.
func MetricsFromEnv(environ []string) (cfg MetricsConfig, ok bool, err error) {
	get := lookup(environ)
	if ok, err := metricsOn(get); !ok || err != nil {
		return cfg, false, err
	}
	generic, specific := get("OTEL_EXPORTER_OTLP_ENDPOINT"), get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")
	cfg.Endpoint = specific
	if cfg.Endpoint == "" {
		cfg.Endpoint = strings.TrimSuffix(firstSet(generic, "http://localhost:4318"), "/") + "/v1/metrics"
	}
	cfg.Headers = keyValues(get("OTEL_EXPORTER_OTLP_HEADERS"))
	for k, v := range keyValues(get("OTEL_EXPORTER_OTLP_METRICS_HEADERS")) {
		cfg.Headers[k] = v
	}
	cfg.Timeout = 10 * time.Second
	if t := firstSet(get("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT"), get("OTEL_EXPORTER_OTLP_TIMEOUT")); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n <= 0 {
			return cfg, false, fmt.Errorf("OTLP timeout %q: want milliseconds", t)
		}
		cfg.Timeout = time.Duration(n) * time.Millisecond
	}
	cfg.Gzip = firstSet(get("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION"),
		get("OTEL_EXPORTER_OTLP_COMPRESSION")) == "gzip"
	cfg.Resource = keyValues(get("OTEL_RESOURCE_ATTRIBUTES"))
	if name := get("OTEL_SERVICE_NAME"); name != "" {
		cfg.Resource["service.name"] = name
	}
	if cfg.Resource["service.name"] == "" {
		cfg.Resource["service.name"] = "self-heal"
	}
	return cfg, true, nil
}

// metricsOn decides from the OTEL_* variables whether metrics are sent.
func metricsOn(get func(string) string) (bool, error) {
	exporter := strings.ToLower(get("OTEL_METRICS_EXPORTER"))
	switch {
	case strings.EqualFold(get("OTEL_SDK_DISABLED"), "true"), exporter == "none":
		return false, nil
	case exporter != "" && exporter != "otlp":
		return false, fmt.Errorf("OTEL_METRICS_EXPORTER=%s: only otlp is supported", exporter)
	case exporter == "" && get("OTEL_EXPORTER_OTLP_ENDPOINT") == "" &&
		get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") == "":
		return false, nil
	}
	proto := firstSet(get("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"), get("OTEL_EXPORTER_OTLP_PROTOCOL"))
	if proto != "" && proto != "http/protobuf" {
		return false, fmt.Errorf("OTLP protocol %s: only http/protobuf is supported", proto)
	}
	return true, nil
}

// keyValues parses the "k1=v1,k2=v2" lists of the OTEL_* variables;
// values are URL-decoded.
func keyValues(s string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			continue
		}
		if dec, err := url.QueryUnescape(strings.TrimSpace(v)); err == nil {
			v = dec
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out
}

// Metric names, all in the self_heal namespace.
const (
	MetricRuns       = "self_heal.runs"
	MetricFixes      = "self_heal.fixes"
	MetricHeals      = "self_heal.heals"
	MetricRefusals   = "self_heal.refusals"
	MetricTimeToHeal = "self_heal.time_to_heal"
)

// ExportMetrics sends one run's metrics to the endpoint once, with delta
// temporality, since every run is its own short process.
func ExportMetrics(ctx context.Context, cfg MetricsConfig, r *Record) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	rm, err := collect(ctx, cfg, r)
	if err != nil {
		return err
	}
	opts := []otlpmetrichttp.Option{
		otlpmetrichttp.WithEndpointURL(cfg.Endpoint),
		otlpmetrichttp.WithHeaders(cfg.Headers),
		otlpmetrichttp.WithTimeout(cfg.Timeout),
		otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig{Enabled: false}),
	}
	if cfg.Gzip {
		opts = append(opts, otlpmetrichttp.WithCompression(otlpmetrichttp.GzipCompression))
	}
	exp, err := otlpmetrichttp.New(ctx, opts...)
	if err != nil {
		return fmt.Errorf("export metrics: %w", err)
	}
	err = exp.Export(ctx, rm)
	if serr := exp.Shutdown(ctx); err == nil && serr != nil && !errors.Is(serr, context.Canceled) {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("export metrics to %s: %w", cfg.Endpoint, err)
	}
	return nil
}

// collect records the run's instruments and collects them once.
func collect(ctx context.Context, cfg MetricsConfig, r *Record) (*metricdata.ResourceMetrics, error) {
	attrs := make([]attribute.KeyValue, 0, len(cfg.Resource))
	for k, v := range cfg.Resource {
		attrs = append(attrs, attribute.String(k, v))
	}
	reader := sdkmetric.NewManualReader(sdkmetric.WithTemporalitySelector(
		func(sdkmetric.InstrumentKind) metricdata.Temporality { return metricdata.DeltaTemporality }))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader),
		sdkmetric.WithResource(resource.NewSchemaless(attrs...)))
	if err := record(ctx, mp.Meter("github.com/self-heal/self-heal/pkg/ledger"), r); err != nil {
		return nil, fmt.Errorf("record metrics: %w", err)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		return nil, fmt.Errorf("collect metrics: %w", err)
	}
	return &rm, nil
}

// record adds the run to the instruments: one run, each fix by outcome,
// heals and refusals per pattern and fixer, and the time to heal.
func record(ctx context.Context, m metric.Meter, r *Record) error {
	runs, err1 := m.Int64Counter(MetricRuns, metric.WithDescription("Runs of self-heal run"))
	fixes, err2 := m.Int64Counter(MetricFixes,
		metric.WithDescription("Fixes planned, applied, refused or failed"))
	heals, err3 := m.Int64Counter(MetricHeals,
		metric.WithDescription("Fixes applied in runs that ended green"))
	refusals, err4 := m.Int64Counter(MetricRefusals, metric.WithDescription("Fixes refused, by reason"))
	tth, err5 := m.Float64Histogram(MetricTimeToHeal, metric.WithUnit("s"),
		metric.WithDescription("Time from the first failure to green, for healed runs"))
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return err
	}

	main := mainPattern(r)
	common := []attribute.KeyValue{
		attribute.String("repository", r.Repository), attribute.String("stack", r.Stack),
		attribute.String("tool", r.Tool),
	}
	runs.Add(ctx, 1, metric.WithAttributes(append(common,
		attribute.String("outcome", string(r.Outcome)), attribute.String("pattern", main))...))
	healed := r.Outcome == report.Healed
	for _, a := range r.Attempts {
		for _, f := range a.Fixes {
			fa := []attribute.KeyValue{attribute.String("pattern", a.Pattern), attribute.String("fixer", f.Fixer)}
			fixes.Add(ctx, 1, metric.WithAttributes(append(fa, attribute.String("outcome", f.Outcome))...))
			switch {
			case f.Outcome == FixRefused:
				refusals.Add(ctx, 1, metric.WithAttributes(append(fa, attribute.String("reason", f.Rule))...))
			case f.Outcome == FixApplied && healed:
				heals.Add(ctx, 1, metric.WithAttributes(fa...))
			}
		}
	}
	if healed {
		tth.Record(ctx, seconds(r.TimeToGreenMS), metric.WithAttributes(attribute.String("pattern", main)))
	}
	return nil
}

// mainPattern names the pattern a run is counted under: the first that
// recognised a failure, "unknown" for a failure none recognised, and
// "none" for a run that never failed.
func mainPattern(r *Record) string {
	if ps := r.Patterns(); len(ps) > 0 {
		return ps[0]
	}
	if r.Failed() {
		return "unknown"
	}
	return "none"
}
