package kubernetes_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/idlescale/idlescale/internal/kubetest"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
)

// TestServerGoesAway runs against an API server of its own: paused
// (SIGSTOP), calls hang until the caller's deadline ends them; stopped,
// they fail at once with ErrUnavailable.
//
// A paused server can be killed (SIGKILL, the OOM killer of a loaded
// host): Resume then starts it again, and the calls made during that
// pause met refused connections, not a hung server, so the pause is done
// again (the first of a loaded CI run's failures was Resume's "process
// already finished").
func TestServerGoesAway(t *testing.T) {
	t.Parallel()
	srv, err := kubetest.Start(kubetest.Options{})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	admin, err := srv.Client(kubetest.Admin)
	require.NoError(t, err)
	f := &fixture{t: t, ctx: t.Context(), admin: admin}
	f.ns, err = srv.Namespace(f.ctx, admin, t.Name())
	require.NoError(t, err)
	f.deployment("web", 2, []corev1.Container{container("app", "100m", "64Mi", false)})
	d, err := kubernetes.New(kubernetes.Config{Namespaces: []string{f.ns}}, admin)
	require.NoError(t, err)
	web := f.id(kubernetes.ObjectDeployment, "web")
	_, err = d.Capacity(f.ctx, web)
	require.NoError(t, err)

	calls := map[string]func(ctx context.Context) error{
		"List":     func(ctx context.Context) error { _, err := d.List(ctx, provider.Filter{}); return err },
		"Capacity": func(ctx context.Context) error { _, err := d.Capacity(ctx, web); return err },
		"SetCapacity": func(ctx context.Context) error {
			return d.SetCapacity(ctx, web, provider.CapacitySpec{Min: 1, Max: 10, Desired: 3})
		},
		"Stop": func(ctx context.Context) error { return d.Workloads().Stop(ctx, web) },
	}
	for attempt := 1; ; attempt++ {
		restarts := srv.Restarts()
		require.NoError(t, srv.Pause())
		errs := map[string]error{}
		for name, call := range calls {
			ctx, cancel := context.WithTimeout(f.ctx, time.Second)
			done := make(chan error, 1)
			go func() { done <- call(ctx) }()
			// Generous: the call must end because of its deadline, not hang
			// for the client's own one-minute timeout.
			select {
			case errs[name] = <-done:
			case <-time.After(45 * time.Second):
				t.Fatalf("%s did not honour its one-second deadline against a hung server", name)
			}
			cancel()
		}
		require.NoError(t, srv.Resume())
		if srv.Restarts() == restarts {
			for name, err := range errs {
				require.ErrorIs(t, err, context.DeadlineExceeded, name)
			}
			break
		}
		require.Less(t, attempt, 3, "the paused API server was killed in %d pauses in a row", attempt)
		t.Logf("the API server was killed while paused (pause %d); pausing it again", attempt)
	}
	c, err := d.Capacity(f.ctx, web)
	require.NoError(t, err)
	assert.Equal(t, 2, c.Desired, "nothing was written while the server hung")

	srv.Stop()
	ctx, cancel := context.WithTimeout(f.ctx, 30*time.Second)
	defer cancel()
	_, err = d.Capacity(ctx, web)
	require.ErrorIs(t, err, kubernetes.ErrUnavailable, "connection refused")
}
