package cardredaction

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
)

const (
	card    = "4111 1111 1111 1111"
	orderID = "ord_c29b6c95-36ac-4870-8513-256339762056"
	spanID  = "1234567890123456" // 16 decimal digits that fail Luhn
)

// fill puts a card alone, a card in text, identifiers, an int, and a card inside a map and a list.
func fill(m pcommon.Map) {
	m.PutStr("note", "paid with "+card+" today")
	m.PutStr("pan", card)
	m.PutStr("order.id", orderID)
	m.PutStr("message", "span "+spanID+" of order "+orderID)
	m.PutInt("amount", 4111111111111111)
	nested := m.PutEmptyMap("nested")
	nested.PutStr("inner", "("+card+")")
	list := nested.PutEmptySlice("list")
	list.AppendEmpty().SetStr(card)
	list.AppendEmpty().SetStr(orderID)
}

// check: every value fill put is as the processor must leave it.
func check(t *testing.T, where string, m pcommon.Map) {
	t.Helper()
	want := map[string]any{
		"note":     "paid with " + Mask + " today",
		"pan":      Mask,
		"order.id": orderID,
		"message":  "span " + spanID + " of order " + orderID,
		"amount":   int64(4111111111111111),
		"nested": map[string]any{
			"inner": "(" + Mask + ")",
			"list":  []any{Mask, orderID},
		},
	}
	got := m.AsRaw()
	if len(got) != len(want) {
		t.Errorf("%s: %v", where, got)
	}
	for key, value := range want {
		if !equal(got[key], value) {
			t.Errorf("%s %s: got %#v, want %#v", where, key, got[key], value)
		}
	}
}

func equal(a, b any) bool {
	switch b := b.(type) {
	case map[string]any:
		a, ok := a.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k := range b {
			if !equal(a[k], b[k]) {
				return false
			}
		}
		return true
	case []any:
		a, ok := a.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range b {
			if !equal(a[i], b[i]) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}

func TestTraces(t *testing.T) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	fill(rs.Resource().Attributes())
	ss := rs.ScopeSpans().AppendEmpty()
	fill(ss.Scope().Attributes())
	span := ss.Spans().AppendEmpty()
	span.SetName("checkout " + spanID)
	fill(span.Attributes())
	fill(span.Events().AppendEmpty().Attributes())
	fill(span.Links().AppendEmpty().Attributes())
	span.Status().SetMessage("declined: " + card)

	sink := new(consumertest.TracesSink)
	factory := NewFactory()
	p, err := factory.CreateTraces(context.Background(), processortest.NewNopSettings(Type), factory.CreateDefaultConfig(), sink)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Capabilities().MutatesData {
		t.Error("the processor changes data in place, so it must say so")
	}
	if err := p.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	if err := p.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	if len(sink.AllTraces()) != 1 {
		t.Fatalf("%d batches passed on, want 1", len(sink.AllTraces()))
	}
	out := sink.AllTraces()[0].ResourceSpans().At(0)
	check(t, "resource", out.Resource().Attributes())
	check(t, "scope", out.ScopeSpans().At(0).Scope().Attributes())
	got := out.ScopeSpans().At(0).Spans().At(0)
	check(t, "span", got.Attributes())
	check(t, "event", got.Events().At(0).Attributes())
	check(t, "link", got.Links().At(0).Attributes())
	if got.Status().Message() != "declined: "+Mask {
		t.Errorf("status message %q", got.Status().Message())
	}
	if got.Name() != "checkout "+spanID {
		t.Errorf("span name %q", got.Name())
	}
}

func TestLogs(t *testing.T) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	fill(rl.Resource().Attributes())
	sl := rl.ScopeLogs().AppendEmpty()
	fill(sl.Scope().Attributes())
	text := sl.LogRecords().AppendEmpty()
	fill(text.Attributes())
	text.Body().SetStr("order " + orderID + " paid with " + card)
	structured := sl.LogRecords().AppendEmpty()
	fill(structured.Body().SetEmptyMap())

	sink := new(consumertest.LogsSink)
	factory := NewFactory()
	p, err := factory.CreateLogs(context.Background(), processortest.NewNopSettings(Type), factory.CreateDefaultConfig(), sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}

	if len(sink.AllLogs()) != 1 {
		t.Fatalf("%d batches passed on, want 1", len(sink.AllLogs()))
	}
	out := sink.AllLogs()[0].ResourceLogs().At(0)
	check(t, "resource", out.Resource().Attributes())
	check(t, "scope", out.ScopeLogs().At(0).Scope().Attributes())
	records := out.ScopeLogs().At(0).LogRecords()
	check(t, "record", records.At(0).Attributes())
	if body := records.At(0).Body().Str(); body != "order "+orderID+" paid with "+Mask {
		t.Errorf("body %q", body)
	}
	check(t, "structured body", records.At(1).Body().Map())
}

func TestMetrics(t *testing.T) {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	fill(rm.Resource().Attributes())
	sm := rm.ScopeMetrics().AppendEmpty()
	fill(sm.Scope().Attributes())
	metrics := sm.Metrics()
	gauge := metrics.AppendEmpty().SetEmptyGauge().DataPoints().AppendEmpty()
	fill(gauge.Attributes())
	fill(gauge.Exemplars().AppendEmpty().FilteredAttributes())
	sum := metrics.AppendEmpty().SetEmptySum().DataPoints().AppendEmpty()
	fill(sum.Attributes())
	fill(sum.Exemplars().AppendEmpty().FilteredAttributes())
	histogram := metrics.AppendEmpty().SetEmptyHistogram().DataPoints().AppendEmpty()
	fill(histogram.Attributes())
	fill(histogram.Exemplars().AppendEmpty().FilteredAttributes())
	exponential := metrics.AppendEmpty().SetEmptyExponentialHistogram().DataPoints().AppendEmpty()
	fill(exponential.Attributes())
	fill(exponential.Exemplars().AppendEmpty().FilteredAttributes())
	fill(metrics.AppendEmpty().SetEmptySummary().DataPoints().AppendEmpty().Attributes())

	sink := new(consumertest.MetricsSink)
	factory := NewFactory()
	p, err := factory.CreateMetrics(context.Background(), processortest.NewNopSettings(Type), factory.CreateDefaultConfig(), sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.ConsumeMetrics(context.Background(), md); err != nil {
		t.Fatal(err)
	}

	if len(sink.AllMetrics()) != 1 {
		t.Fatalf("%d batches passed on, want 1", len(sink.AllMetrics()))
	}
	out := sink.AllMetrics()[0].ResourceMetrics().At(0)
	check(t, "resource", out.Resource().Attributes())
	check(t, "scope", out.ScopeMetrics().At(0).Scope().Attributes())
	got := out.ScopeMetrics().At(0).Metrics()
	if got.Len() != 5 {
		t.Fatalf("%d metrics, want 5", got.Len())
	}
	check(t, "gauge", got.At(0).Gauge().DataPoints().At(0).Attributes())
	check(t, "gauge exemplar", got.At(0).Gauge().DataPoints().At(0).Exemplars().At(0).FilteredAttributes())
	check(t, "sum", got.At(1).Sum().DataPoints().At(0).Attributes())
	check(t, "sum exemplar", got.At(1).Sum().DataPoints().At(0).Exemplars().At(0).FilteredAttributes())
	check(t, "histogram", got.At(2).Histogram().DataPoints().At(0).Attributes())
	check(t, "histogram exemplar", got.At(2).Histogram().DataPoints().At(0).Exemplars().At(0).FilteredAttributes())
	check(t, "exponential histogram", got.At(3).ExponentialHistogram().DataPoints().At(0).Attributes())
	check(t, "exponential histogram exemplar", got.At(3).ExponentialHistogram().DataPoints().At(0).Exemplars().At(0).FilteredAttributes())
	check(t, "summary", got.At(4).Summary().DataPoints().At(0).Attributes())
}
