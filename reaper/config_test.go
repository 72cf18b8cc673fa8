package reaper_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
	"github.com/idlescale/idlescale/safety/approval"
)

// FuzzConfig decodes configurations from JSON: Validate never panics, every
// error matches provider.ErrInvalid, and New accepts exactly what Validate
// accepts (given every dependency).
func FuzzConfig(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"execute":true,"min_confidence":0.9,"actions":["stop","terminate"],"max_actions":3}`,
		`{"actions":["downsize"],"verify_timeout":60000000000,"verify_interval":1000000000}`,
		`{"min_confidence":1.5}`,
		`{"actions":["schedule"]}`,
		`{"verify_timeout":1000,"verify_interval":2000}`,
		`{"filter":{"kinds":["nope"]}}`,
		`{"interval":-1,"fleet_tag":"fleet"}`,
	} {
		f.Add([]byte(seed))
	}
	e := newEnv(f, memory.Config{})
	sizer := reaper.SizerFunc(func(context.Context, provider.Resource) (provider.Size, error) { return provider.Size{}, nil })
	f.Fuzz(func(t *testing.T, data []byte) {
		var cfg reaper.Config
		if json.Unmarshal(data, &cfg) != nil {
			return
		}
		err := cfg.Validate()
		_, newErr := reaper.New(cfg, e.fleet(), e.ensemble, e.engine, reaper.WithSizer(sizer))
		if err != nil {
			require.ErrorIs(t, err, provider.ErrInvalid)
			require.ErrorIs(t, newErr, provider.ErrInvalid)
			return
		}
		require.NoError(t, newErr)
	})
}

func TestReportJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-idle", cpu: 0.02}, vm{id: "i-nobackup", cpu: 0.02, noBack: true})
	_, err := e.cloud.InjectFault(memory.Fault{Op: memory.OpQueryMetric, ResourceID: "i-nobackup"})
	require.NoError(t, err)
	rep, err := e.reaper(t, reaper.Config{}).RunOnce(t.Context(), t0)
	require.NoError(t, err)
	data, err := json.Marshal(rep)
	require.NoError(t, err)
	var back struct {
		DryRun  bool `json:"dry_run"`
		Records []struct {
			ResourceID string   `json:"resource_id"`
			Outcome    string   `json:"outcome"`
			Errors     []string `json:"errors"`
		} `json:"records"`
		Totals reaper.Totals `json:"totals"`
	}
	require.NoError(t, json.Unmarshal(data, &back))
	assert.True(t, back.DryRun)
	require.Len(t, back.Records, 2)
	assert.Equal(t, "would_act", back.Records[0].Outcome)
	assert.NotEmpty(t, back.Records[1].Errors, "errors survive in JSON as messages")
	assert.Equal(t, rep.Totals, back.Totals)
}

// failingExpiry is the env's approvals with an Expire that fails.
type failingExpiry struct {
	*approval.Manager
	err error
}

func (f failingExpiry) Expire(context.Context, time.Time) ([]approval.Request, error) {
	return nil, f.err
}

// TestReportJSONKeepsTheRunsErrors: a failure of the run that belongs to
// no resource (expiring the stale approvals: the approval store is down)
// survives in the report's JSON as a message, as every record's errors
// do. Before, Report.Errors had no JSON form: a host that keeps the
// reports it writes (the quickstart's) kept runs with no trace of it.
func TestReportJSONKeepsTheRunsErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-idle", cpu: 0.02})
	down := errors.New("approval store down")
	r := e.reaper(t, reaper.Config{Execute: true}, reaper.WithApprovals(failingExpiry{e.approvals, down}))
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	require.ErrorIs(t, rep.Err(), down)
	assert.Equal(t, reaper.OutcomeActed, record(t, rep, "i-idle").Outcome, "the run went on")
	data, err := json.Marshal(rep)
	require.NoError(t, err)
	var back struct {
		Errors []string `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, []string{"reaper: expire approvals: approval store down"}, back.Errors)
}
