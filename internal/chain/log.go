package chain

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"

	cmtlog "github.com/cometbft/cometbft/libs/log"
)

// cometLogger folds CometBFT's logger into slog. CometBFT's Info is
// per-block chatter, so it becomes Debug; its Error is mostly peers going
// away, so it becomes Warn, and Debug once the node is stopping (closed
// listeners and transports are expected then).
type cometLogger struct {
	l        *slog.Logger
	stopping *atomic.Bool
}

var _ cmtlog.Logger = cometLogger{}

func (c cometLogger) Debug(msg string, kv ...any) { c.log(slog.LevelDebug-4, msg, kv) }
func (c cometLogger) Info(msg string, kv ...any)  { c.log(slog.LevelDebug, msg, kv) }
func (c cometLogger) Error(msg string, kv ...any) {
	if c.stopping != nil && c.stopping.Load() {
		c.log(slog.LevelDebug, msg, kv)
		return
	}
	c.log(slog.LevelWarn, msg, kv)
}

func (c cometLogger) With(kv ...any) cmtlog.Logger {
	return cometLogger{l: c.l.With(fixKV(kv)...), stopping: c.stopping}
}

func (c cometLogger) log(lvl slog.Level, msg string, kv []any) {
	ctx := context.Background()
	if !c.l.Enabled(ctx, lvl) {
		return
	}
	c.l.Log(ctx, lvl, msg, fixKV(kv)...)
}

// fixKV turns CometBFT's values (which often are Stringers or errors) into
// plain strings so every slog handler prints them the same way.
func fixKV(kv []any) []any {
	out := make([]any, 0, len(kv))
	for i := 0; i+1 < len(kv); i += 2 {
		k := fmt.Sprint(kv[i])
		switch v := kv[i+1].(type) {
		case error:
			out = append(out, k, v.Error())
		case fmt.Stringer:
			out = append(out, k, v.String())
		default:
			out = append(out, k, v)
		}
	}
	return out
}

// pebbleLogger sends pebble's messages to slog at Debug instead of Go's
// standard logger.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), "module", "pebble")
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Warn(fmt.Sprintf(format, args...), "module", "pebble")
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "module", "pebble")
	os.Exit(1)
}
