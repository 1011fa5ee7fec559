package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the API's Prometheus collectors; a nil *metrics records
// nothing.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	streams  prometheus.Gauge
	drops    *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	if reg == nil {
		return nil
	}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "vm", Subsystem: "api", Name: "requests_total",
			Help: "HTTP API requests by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "vm", Subsystem: "api", Name: "request_duration_seconds",
			Help:    "HTTP API request latency by route pattern (event streams excluded).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
		}, []string{"route"}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "vm", Subsystem: "api", Name: "event_streams",
			Help: "Open WebSocket event streams.",
		}),
		drops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "vm", Subsystem: "api", Name: "event_stream_drops_total",
			Help: "Event streams the server ended, by reason: slow (1008, the client did not read in time) or ended (1013, the node ended the subscription).",
		}, []string{"reason"}),
	}
	reg.MustRegister(m.requests, m.duration, m.streams, m.drops)
	return m
}

// statusWriter records the status an inner handler wrote. Unwrap lets
// http.ResponseController and the WebSocket upgrade reach the connection.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe wraps h to count its requests under route.
func (m *metrics) observe(route string, h http.Handler) http.Handler {
	if m == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		code := sw.status
		if code == 0 {
			code = http.StatusSwitchingProtocols // hijacked by the WebSocket upgrade
		}
		m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
		if code != http.StatusSwitchingProtocols {
			m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
		}
	})
}
