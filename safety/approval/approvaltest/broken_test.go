package approvaltest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
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

// flawedStore is a Store written from scratch, like a host's own, with the
// flaws its fields switch on.
type flawedStore struct {
	// shallowCopies passes fn, and returns from Update and List, values
	// that share their tags and factors with the stored ones.
	shallowCopies bool
	// listSummaries lists requests without their factors, as a store
	// that lists from an index of summaries would.
	listSummaries bool
	// ownValidation checks a request its own way, not with
	// Request.Validate: an ID, a known state, the expiry after creation.
	ownValidation bool
	// racyCreate checks that an ID is free and writes the request in two
	// steps, and (to lose the race every time) waits after its check until
	// a second Create has checked too: only for a suite run of concurrent
	// Creates alone (CreateConcurrent), since a lone Create would wait for
	// ever.
	racyCreate bool

	checked     atomic.Int32
	bothChecked chan struct{} // closed by the second Create past its check

	mu   sync.Mutex
	reqs map[string]approval.Request
}

func (s *flawedStore) validate(r approval.Request) error {
	if !s.ownValidation {
		return r.Validate()
	}
	switch {
	case r.ID == "":
		return provider.Invalid("approval.id", r.ID, "must be set")
	case r.State.Validate() != nil:
		return r.State.Validate()
	case !r.ExpiresAt.After(r.CreatedAt) && !r.CreatedAt.IsZero():
		return provider.Invalid("approval.expires_at", r.ExpiresAt, "must be after created_at")
	}
	return nil
}

func (s *flawedStore) copyOf(r approval.Request) approval.Request {
	if s.shallowCopies {
		return r
	}
	return r.Clone()
}

func (s *flawedStore) Create(ctx context.Context, req approval.Request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.validate(req); err != nil {
		return err
	}
	if s.racyCreate {
		s.mu.Lock()
		_, taken := s.reqs[req.ID]
		s.mu.Unlock()
		if taken {
			return approval.ErrExists
		}
		if s.checked.Add(1) == 2 {
			close(s.bothChecked)
		}
		<-s.bothChecked
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.reqs[req.ID]; ok && !s.racyCreate {
		return approval.ErrExists
	}
	if s.reqs == nil {
		s.reqs = map[string]approval.Request{}
	}
	s.reqs[req.ID] = req.Clone()
	return nil
}

func (s *flawedStore) Get(ctx context.Context, id string) (approval.Request, error) {
	if err := ctx.Err(); err != nil {
		return approval.Request{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.reqs[id]
	if !ok {
		return approval.Request{}, approval.ErrUnknown
	}
	return r.Clone(), nil
}

func (s *flawedStore) Update(ctx context.Context, id string, fn func(*approval.Request) error) (approval.Request, error) {
	if err := ctx.Err(); err != nil {
		return approval.Request{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.reqs[id]
	if !ok {
		return approval.Request{}, approval.ErrUnknown
	}
	next := s.copyOf(cur)
	if err := fn(&next); err != nil {
		return approval.Request{}, err
	}
	if next.ID != id {
		return approval.Request{}, provider.Invalid("approval.id", next.ID, "must not change")
	}
	if err := s.validate(next); err != nil {
		return approval.Request{}, err
	}
	s.reqs[id] = next
	return s.copyOf(next), nil
}

func (s *flawedStore) List(ctx context.Context, f approval.Filter) ([]approval.Request, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []approval.Request
	for _, r := range s.reqs {
		if f.Match(r) {
			r = s.copyOf(r)
			if s.listSummaries {
				r.Factors = nil
			}
			out = append(out, r)
		}
	}
	approval.Sort(out)
	return out, nil
}

// envRacyChild makes TestRacyCreateChild run the suite's CreateConcurrent
// against the racy store; only TestRunCatchesRacyCreate sets it, in the
// child process it starts.
const envRacyChild = "IDLESCALE_APPROVALTEST_RACY_CHILD"

// TestRacyCreateChild is the child process of TestRunCatchesRacyCreate.
// Run normally (without envRacyChild) it checks nothing and passes.
func TestRacyCreateChild(t *testing.T) {
	if os.Getenv(envRacyChild) != "1" {
		return
	}
	approvaltest.Run(t, func(*testing.T) approval.Store {
		return &flawedStore{racyCreate: true, bothChecked: make(chan struct{})}
	})
}

// TestRunCatchesRacyCreate runs CreateConcurrent against a store whose
// check for a taken ID and write are two steps, in a child process, and
// checks that it fails: two concurrent Creates of one ID both succeed.
func TestRunCatchesRacyCreate(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestRacyCreateChild$/^CreateConcurrent$", "-test.count=1", "-test.timeout=30s", "-test.v")
	cmd.Env = append(os.Environ(), envRacyChild+"=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the suite must fail on a racy store; output:\n%s", out)
	assert.Contains(t, string(out), "--- FAIL: TestRacyCreateChild/CreateConcurrent ")
	assert.Contains(t, string(out), "exactly one of 8 concurrent Creates of one ID succeeds")
	assert.NotContains(t, string(out), "test timed out")
}

// TestFlawlessStorePasses runs the suite against flawedStore without its
// flaws: the flaws, not the store, fail TestRunCatchesFlawedStores.
func TestFlawlessStorePasses(t *testing.T) {
	t.Parallel()
	approvaltest.Run(t, func(*testing.T) approval.Store { return &flawedStore{} })
}

// envFlawedChild makes TestFlawedStoreChild run the suite against the
// flawed stores; only TestRunCatchesFlawedStores sets it, in the child
// process it starts.
const envFlawedChild = "IDLESCALE_APPROVALTEST_FLAWED_CHILD"

// TestFlawedStoreChild is the child process of TestRunCatchesFlawedStores.
// Run normally (without envFlawedChild) it checks nothing and passes.
func TestFlawedStoreChild(t *testing.T) {
	if os.Getenv(envFlawedChild) != "1" {
		return
	}
	t.Run("ShallowCopies", func(t *testing.T) {
		approvaltest.Run(t, func(*testing.T) approval.Store { return &flawedStore{shallowCopies: true} })
	})
	t.Run("ListSummaries", func(t *testing.T) {
		approvaltest.Run(t, func(*testing.T) approval.Store { return &flawedStore{listSummaries: true} })
	})
	t.Run("OwnValidation", func(t *testing.T) {
		approvaltest.Run(t, func(*testing.T) approval.Store { return &flawedStore{ownValidation: true} })
	})
}

// TestRunCatchesFlawedStores runs the suite against the flawed stores in a
// child process and checks that the subtests of what each breaks fail and
// some others pass: values shared with the store through fn, Update and
// List (ValuesAreCopies, UpdateFuncErrorStoresNothing); a List that loses
// fields (List); a validation other than Request.Validate, which lets a
// request without a creation time or with a malformed ID in (CreateInvalid,
// UpdateInvalid).
func TestRunCatchesFlawedStores(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestFlawedStoreChild$", "-test.count=1", "-test.timeout=30s", "-test.v")
	cmd.Env = append(os.Environ(), envFlawedChild+"=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the suite must fail on flawed stores; output:\n%s", out)
	for name, msg := range map[string]string{
		"ShallowCopies/ValuesAreCopies":              "changing what Update or List returned changed the stored tags",
		"ShallowCopies/UpdateFuncErrorStoresNothing": `"changed-by-failed-update"`,
		"ListSummaries/List":                         `List returns what Get returns for "a"`,
		"OwnValidation/CreateInvalid":                "no creation time",
		"OwnValidation/UpdateInvalid":                "no creation time",
	} {
		assert.Contains(t, string(out), "--- FAIL: TestFlawedStoreChild/"+name+" ")
		assert.Contains(t, string(out), msg, name)
	}
	for _, name := range []string{
		"ShallowCopies/CreateGetRoundTrip", "ShallowCopies/List", "ListSummaries/ValuesAreCopies",
		"ListSummaries/CreateGetRoundTrip", "OwnValidation/Update", "OwnValidation/List",
	} {
		assert.Contains(t, string(out), "--- PASS: TestFlawedStoreChild/"+name+" ")
	}
	if t.Failed() {
		t.Logf("child output:\n%s", out)
	}
}
