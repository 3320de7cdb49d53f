// Package cardredaction is the card_redaction processor: the collector's safety net for card numbers, with the
// rules of the services' logger (src/platform/redaction.ts), Luhn check included, so that it masks card numbers
// and never an identifier that merely has a card's length (a span id of 16 decimal digits, the digit groups of a
// UUID). It masks them in every string value, at any depth of maps and lists: resource and scope attributes,
// span, span event and span link attributes and span status messages, log record attributes and bodies, and
// metric data point and exemplar attributes.
package cardredaction

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
)

// Type is the processor's name in the collector's config.
var Type = component.MustNewType("card_redaction")

// Config: the processor has no settings; the rules are fixed, the same as the logger's.
type Config struct{}

// NewFactory makes the processor for traces, metrics and logs.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		Type,
		func() component.Config { return &Config{} },
		processor.WithTraces(createTraces, component.StabilityLevelBeta),
		processor.WithMetrics(createMetrics, component.StabilityLevelBeta),
		processor.WithLogs(createLogs, component.StabilityLevelBeta),
	)
}

var mutates = processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true})

func createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	return processorhelper.NewTraces(ctx, set, cfg, next, func(_ context.Context, td ptrace.Traces) (ptrace.Traces, error) {
		MaskTraces(td)
		return td, nil
	}, mutates)
}

func createMetrics(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Metrics) (processor.Metrics, error) {
	return processorhelper.NewMetrics(ctx, set, cfg, next, func(_ context.Context, md pmetric.Metrics) (pmetric.Metrics, error) {
		MaskMetrics(md)
		return md, nil
	}, mutates)
}

func createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	return processorhelper.NewLogs(ctx, set, cfg, next, func(_ context.Context, ld plog.Logs) (plog.Logs, error) {
		MaskLogs(ld)
		return ld, nil
	}, mutates)
}

// maskValue masks card numbers in a string value, and in every string inside a map or list value.
func maskValue(v pcommon.Value) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		if masked, changed := MaskCardNumbers(v.Str()); changed {
			v.SetStr(masked)
		}
	case pcommon.ValueTypeMap:
		maskMap(v.Map())
	case pcommon.ValueTypeSlice:
		for _, item := range v.Slice().All() {
			maskValue(item)
		}
	}
}

func maskMap(m pcommon.Map) {
	for _, v := range m.All() {
		maskValue(v)
	}
}

// MaskTraces masks card numbers in place in every string value of the traces.
func MaskTraces(td ptrace.Traces) {
	for _, rs := range td.ResourceSpans().All() {
		maskMap(rs.Resource().Attributes())
		for _, ss := range rs.ScopeSpans().All() {
			maskMap(ss.Scope().Attributes())
			for _, span := range ss.Spans().All() {
				maskMap(span.Attributes())
				for _, event := range span.Events().All() {
					maskMap(event.Attributes())
				}
				for _, link := range span.Links().All() {
					maskMap(link.Attributes())
				}
				if masked, changed := MaskCardNumbers(span.Status().Message()); changed {
					span.Status().SetMessage(masked)
				}
			}
		}
	}
}

// MaskLogs masks card numbers in place in every string value of the logs, bodies included.
func MaskLogs(ld plog.Logs) {
	for _, rl := range ld.ResourceLogs().All() {
		maskMap(rl.Resource().Attributes())
		for _, sl := range rl.ScopeLogs().All() {
			maskMap(sl.Scope().Attributes())
			for _, record := range sl.LogRecords().All() {
				maskMap(record.Attributes())
				maskValue(record.Body())
			}
		}
	}
}

// MaskMetrics masks card numbers in place in every string attribute value of the metrics: resource, scope, data
// point and exemplar attributes.
func MaskMetrics(md pmetric.Metrics) {
	for _, rm := range md.ResourceMetrics().All() {
		maskMap(rm.Resource().Attributes())
		for _, sm := range rm.ScopeMetrics().All() {
			maskMap(sm.Scope().Attributes())
			for _, metric := range sm.Metrics().All() {
				maskDataPoints(metric)
			}
		}
	}
}

func maskExemplars(exemplars pmetric.ExemplarSlice) {
	for _, e := range exemplars.All() {
		maskMap(e.FilteredAttributes())
	}
}

func maskDataPoints(metric pmetric.Metric) {
	switch metric.Type() {
	case pmetric.MetricTypeGauge:
		for _, dp := range metric.Gauge().DataPoints().All() {
			maskMap(dp.Attributes())
			maskExemplars(dp.Exemplars())
		}
	case pmetric.MetricTypeSum:
		for _, dp := range metric.Sum().DataPoints().All() {
			maskMap(dp.Attributes())
			maskExemplars(dp.Exemplars())
		}
	case pmetric.MetricTypeHistogram:
		for _, dp := range metric.Histogram().DataPoints().All() {
			maskMap(dp.Attributes())
			maskExemplars(dp.Exemplars())
		}
	case pmetric.MetricTypeExponentialHistogram:
		for _, dp := range metric.ExponentialHistogram().DataPoints().All() {
			maskMap(dp.Attributes())
			maskExemplars(dp.Exemplars())
		}
	case pmetric.MetricTypeSummary:
		for _, dp := range metric.Summary().DataPoints().All() {
			maskMap(dp.Attributes())
		}
	}
}
