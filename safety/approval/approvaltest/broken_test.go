package approvaltest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/safety/approval"
	"github.com/idlescale/idlescale/safety/approval/approvaltest"
)

// envBrokenChild makes TestBrokenStoreChild run the suite against broken
// stores; only TestRunReportsBrokenStores sets it, in the child process it
// starts.
const envBrokenChild = "IDLESCALE_APPROVALTEST_BROKEN_CHILD"

// listIgnoresState is a store whose List drops the state filter.
type listIgnoresState struct{ *approval.MemoryStore }

func (s listIgnoresState) List(ctx context.Context, f approval.Filter) ([]approval.Request, error) {
	f.State = ""
	return s.MemoryStore.List(ctx, f)
}

// forgetsClosedAt is a store that does not keep when an executed request
// closed.
type forgetsClosedAt struct{ *approval.MemoryStore }

func (s forgetsClosedAt) Update(ctx context.Context, id string, fn func(*approval.Request) error) (approval.Request, error) {
	return s.MemoryStore.Update(ctx, id, func(r *approval.Request) error {
		if err := fn(r); err != nil {
			return err
		}
		if r.State == approval.Executed {
			r.ClosedAt = time.Time{}
		}
		return nil
	})
}

// forgetsClaim is a store that does not keep who claimed an executing
// request (a store with a fixed schema that predates the claim).
type forgetsClaim struct{ *approval.MemoryStore }

func (s forgetsClaim) Update(ctx context.Context, id string, fn func(*approval.Request) error) (approval.Request, error) {
	return s.MemoryStore.Update(ctx, id, func(r *approval.Request) error {
		if err := fn(r); err != nil {
			return err
		}
		r.ClaimedBy = ""
		return nil
	})
}

// acceptsIdenticalCreate is a store whose Create accepts a request
// identical to the stored one, as a store that takes the value it reads
// back for its own earlier write would.
type acceptsIdenticalCreate struct{ *approval.MemoryStore }

func (s acceptsIdenticalCreate) Create(ctx context.Context, req approval.Request) error {
	err := s.MemoryStore.Create(ctx, req)
	if errors.Is(err, approval.ErrExists) {
		if got, gerr := s.Get(ctx, req.ID); gerr == nil && reflect.DeepEqual(got, req) {
			return nil
		}
	}
	return err
}

// TestBrokenStoreChild is the child process of TestRunReportsBrokenStores.
// Run normally (without envBrokenChild) it checks nothing and passes.
func TestBrokenStoreChild(t *testing.T) {
	if os.Getenv(envBrokenChild) != "1" {
		return
	}
	t.Run("ListIgnoresState", func(t *testing.T) {
		approvaltest.Run(t, func(*testing.T) approval.Store { return listIgnoresState{approval.NewMemoryStore()} })
	})
	t.Run("ForgetsClosedAt", func(t *testing.T) {
		approvaltest.Run(t, func(*testing.T) approval.Store { return forgetsClosedAt{approval.NewMemoryStore()} })
	})
	t.Run("ForgetsClaim", func(t *testing.T) {
		approvaltest.Run(t, func(*testing.T) approval.Store { return forgetsClaim{approval.NewMemoryStore()} })
	})
	t.Run("AcceptsIdenticalCreate", func(t *testing.T) {
		approvaltest.Run(t, func(*testing.T) approval.Store { return acceptsIdenticalCreate{approval.NewMemoryStore()} })
	})
}

// TestRunReportsBrokenStores runs the suite against four broken stores in
// a child process and checks that exactly the subtests for what they break
// fail: the filter by state (List and every transition), the close time of
// an executed request (only the transitions to executed), who claimed an
// executing request (only the transitions through executing), and a taken
// ID refused to an identical request (only CreateDuplicate).
func TestRunReportsBrokenStores(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestBrokenStoreChild$", "-test.count=1", "-test.timeout=30s", "-test.v")
	cmd.Env = append(os.Environ(), envBrokenChild+"=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the suite must fail on a broken store; output:\n%s", out)
	for _, name := range []string{
		"ListIgnoresState/List", "ListIgnoresState/Transitions/pending_to_approved",
		"ListIgnoresState/Transitions/approved_to_executed", "ForgetsClosedAt/Transitions/approved_to_executed",
		"ForgetsClosedAt/Transitions/executing_to_executed",
		"ForgetsClaim/Transitions/approved_to_executing", "ForgetsClaim/Transitions/executing_to_executed",
		"ForgetsClaim/Transitions/executing_to_approved", "ForgetsClaim/Transitions/executing_to_expired",
		"AcceptsIdenticalCreate/CreateDuplicate",
	} {
		assert.Contains(t, string(out), "--- FAIL: TestBrokenStoreChild/"+name+" ")
	}
	for _, name := range []string{
		"ListIgnoresState/CreateGetRoundTrip", "ForgetsClosedAt/List",
		"ForgetsClosedAt/Transitions/pending_to_denied", "ForgetsClosedAt/Transitions/approved_to_cancelled",
		"ForgetsClaim/Transitions/approved_to_executed", "ForgetsClaim/Transitions/pending_to_denied",
		"AcceptsIdenticalCreate/CreateGetRoundTrip", "AcceptsIdenticalCreate/Transitions/approved_to_executed",
	} {
		assert.Contains(t, string(out), "--- PASS: TestBrokenStoreChild/"+name+" ")
	}
}
