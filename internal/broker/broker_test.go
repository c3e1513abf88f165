package broker_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/abch-im/abch/internal/broker"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/events"
)

func embeddedConfig(t *testing.T) config.Config {
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.NATSListen = "127.0.0.1:-1"
	return cfg
}

func TestEmbeddedBroker(t *testing.T) {
	ctx := context.Background()
	cfg := embeddedConfig(t)
	b, err := broker.Start(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(ctx)

	t.Run("stream exists with the documented configuration", func(t *testing.T) {
		st, err := b.JS.Stream(ctx, broker.StreamName)
		if err != nil {
			t.Fatal(err)
		}
		c := st.CachedInfo().Config
		if len(c.Subjects) != 1 || c.Subjects[0] != "abch.events.>" || c.Storage != jetstream.FileStorage ||
			c.Duplicates != broker.DuplicateWindow || c.MaxAge != broker.MaxAge {
			t.Errorf("stream config: %+v", c)
		}
	})

	t.Run("a repeated message id is stored once", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			if err := b.Publish(ctx, events.Subject(7), "same-id", []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
		}
		st, _ := b.JS.Stream(ctx, broker.StreamName)
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs != 1 {
			t.Errorf("stream holds %d messages", info.State.Msgs)
		}
	})

	t.Run("a second embedded server on a taken port fails clearly", func(t *testing.T) {
		cfg2 := embeddedConfig(t)
		host, port, _ := net.SplitHostPort(strings.TrimPrefix(b.URL, "nats://"))
		cfg2.NATSListen = net.JoinHostPort(host, port)
		start := time.Now()
		b2, err := broker.Start(ctx, cfg2, nil)
		if err == nil {
			b2.Close(ctx)
			t.Fatal("second broker started on a taken port")
		}
		if !strings.Contains(err.Error(), "ABCH_NATS_LISTEN") || time.Since(start) > 3*time.Second {
			t.Errorf("error %q after %v", err, time.Since(start))
		}
	})

	t.Run("port 0 means a free port, not nats-server's default 4222", func(t *testing.T) {
		cfg0 := embeddedConfig(t)
		cfg0.NATSListen = "127.0.0.1:0"
		b0, err := broker.Start(ctx, cfg0, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer b0.Close(ctx)
		if !b0.Embedded() || strings.HasSuffix(b0.URL, ":4222") || !strings.HasPrefix(b0.URL, "nats://127.0.0.1:") {
			t.Errorf("client URL %s", b0.URL)
		}
	})

	t.Run("the stream survives a restart of the embedded server", func(t *testing.T) {
		b.Close(ctx)
		b2, err := broker.Start(ctx, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer b2.Close(ctx)
		st, err := b2.JS.Stream(ctx, broker.StreamName)
		if err != nil {
			t.Fatal(err)
		}
		if info, _ := st.Info(ctx); info.State.Msgs != 1 {
			t.Errorf("after restart the stream holds %d messages", info.State.Msgs)
		}
	})
}
