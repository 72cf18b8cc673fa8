package etcdkv_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/etcdkv"
)

var errGaveUp = errors.New("gave up")

// giveUp records how CAS gave up.
func giveUp(lost int, cause error) error {
	if cause != nil {
		return fmt.Errorf("%w after %d lost rounds: %w", errGaveUp, lost, cause)
	}
	return fmt.Errorf("%w after %d lost rounds", errGaveUp, lost)
}

func TestCAS(t *testing.T) {
	t.Parallel()
	errRound := errors.New("fn refused")
	tests := []struct {
		name         string
		maxConflicts int
		commitAt     int // round commits on this call (0: never)
		failAt       int // round fails on this call (0: never)
		wantRounds   int
		wantWaits    int64 // backoffs between lost rounds
		wantErr      error
		wantMsg      string
	}{
		{"commits first", 3, 1, 0, 1, 0, nil, ""},
		{"commits after two lost", 3, 3, 0, 3, 2, nil, ""},
		{"gives up at the limit", 3, 0, 0, 3, 2, errGaveUp, "after 3 lost rounds"},
		{"limit one: no second round", 1, 0, 0, 1, 0, errGaveUp, "after 1 lost rounds"},
		{"round error unchanged", 3, 0, 2, 2, 1, errRound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := &countingClock{}
			rounds := 0
			err := etcdkv.CAS(t.Context(), clk, tt.maxConflicts, func() (bool, error) {
				rounds++
				if rounds == tt.failAt {
					return false, errRound
				}
				return rounds == tt.commitAt, nil
			}, giveUp)
			assert.Equal(t, tt.wantRounds, rounds)
			assert.Equal(t, tt.wantWaits, clk.afters.Load())
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			if errors.Is(tt.wantErr, errRound) {
				assert.Same(t, errRound, err, "returned unchanged")
			}
			assert.Contains(t, err.Error(), tt.wantMsg)
		})
	}
}

func TestCASStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	rounds := 0
	err := etcdkv.CAS(ctx, nil, 100, func() (bool, error) { rounds++; return false, nil }, giveUp)
	require.ErrorIs(t, err, errGaveUp)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, rounds)
}
