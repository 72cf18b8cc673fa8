package aws_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// putPolicy creates a scaling policy of group on moto: typ
// TargetTrackingScaling, StepScaling, SimpleScaling, or PredictiveScaling
// in mode.
func putPolicy(t *testing.T, group, name, typ string, mode asgtypes.PredictiveScalingMode) {
	t.Helper()
	in := &autoscaling.PutScalingPolicyInput{AutoScalingGroupName: &group, PolicyName: &name, PolicyType: &typ}
	switch typ {
	case "TargetTrackingScaling":
		in.TargetTrackingConfiguration = &asgtypes.TargetTrackingConfiguration{
			PredefinedMetricSpecification: &asgtypes.PredefinedMetricSpecification{PredefinedMetricType: asgtypes.MetricTypeASGAverageCPUUtilization},
			TargetValue:                   awssdk.Float64(60),
		}
	case "StepScaling":
		in.AdjustmentType = awssdk.String("ChangeInCapacity")
		in.StepAdjustments = []asgtypes.StepAdjustment{{MetricIntervalLowerBound: awssdk.Float64(0), ScalingAdjustment: awssdk.Int32(1)}}
	case "SimpleScaling":
		in.AdjustmentType = awssdk.String("ChangeInCapacity")
		in.ScalingAdjustment = awssdk.Int32(1)
	case "PredictiveScaling":
		in.PredictiveScalingConfiguration = &asgtypes.PredictiveScalingConfiguration{
			Mode: mode,
			MetricSpecifications: []asgtypes.PredictiveScalingMetricSpecification{{
				TargetValue:                       awssdk.Float64(50),
				PredefinedMetricPairSpecification: &asgtypes.PredictiveScalingPredefinedMetricPair{PredefinedMetricType: asgtypes.PredefinedMetricPairTypeASGCPUUtilization},
			}},
		}
	}
	_, err := sdk().asg.PutScalingPolicy(tctx(t), in)
	require.NoError(t, err)
}

// policyInputs wraps the real Auto Scaling client and records the
// DescribePolicies inputs.
func policyInputs() (*recordingASG, func() []*autoscaling.DescribePoliciesInput) {
	var mu sync.Mutex
	var ins []*autoscaling.DescribePoliciesInput
	raw := sdk().asg
	rec := &recordingASG{AutoScalingAPI: raw}
	rec.policies = func(ctx context.Context, in *autoscaling.DescribePoliciesInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribePoliciesOutput, error) {
		mu.Lock()
		ins = append(ins, in)
		mu.Unlock()
		return raw.DescribePolicies(ctx, in, optFns...)
	}
	return rec, func() []*autoscaling.DescribePoliciesInput {
		mu.Lock()
		defer mu.Unlock()
		out := ins
		ins = nil
		return out
	}
}

// TestInventoryNamesTheScalingPolicyOfAGroup: List, Get and GetResources
// name in provider.Resource.ScaledBy the Auto Scaling policy that changes
// a group's desired capacity by itself (target tracking, step, simple,
// predictive in ForecastAndScale mode; not ForecastOnly), the first by
// name when several do, on moto. List and GetResources read the region's
// policies with one DescribePolicies when they read more than 10 groups
// (none when no group is read), the policies of each group alone, one
// call each, when they read up to 10, with the same answers; Get reads
// the group's alone. With Config.IgnoreScalingPolicies there is no call
// and no ScaledBy.
func TestInventoryNamesTheScalingPolicyOfAGroup(t *testing.T) {
	t.Parallel()
	tt, step, simple := createGroup(t, 1, 4, 1, nil), createGroup(t, 1, 4, 1, nil), createGroup(t, 1, 4, 1, nil)
	forecastAndScale, forecastOnly := createGroup(t, 1, 4, 1, nil), createGroup(t, 1, 4, 1, nil)
	several, none := createGroup(t, 1, 4, 1, nil), createGroup(t, 1, 4, 1, nil)
	// More groups without policies: 11 in all, more than a batch whose
	// groups' policies are read group by group.
	var more []string
	for range 4 {
		more = append(more, createGroup(t, 1, 4, 1, nil))
	}
	p := uniq("pol") // moto keys policies by name in the whole region
	putPolicy(t, tt, p+"-cpu", "TargetTrackingScaling", "")
	putPolicy(t, step, p+"-step", "StepScaling", "")
	putPolicy(t, simple, p+"-simple", "SimpleScaling", "")
	putPolicy(t, forecastAndScale, p+"-fas", "PredictiveScaling", asgtypes.PredictiveScalingModeForecastAndScale)
	putPolicy(t, forecastOnly, p+"-fo", "PredictiveScaling", asgtypes.PredictiveScalingModeForecastOnly)
	putPolicy(t, several, p+"-z-cpu", "TargetTrackingScaling", "")
	putPolicy(t, several, p+"-b-step", "StepScaling", "")
	putPolicy(t, several, p+"-a-forecast", "PredictiveScaling", asgtypes.PredictiveScalingModeForecastOnly)
	want := map[string]string{
		tt:               "Auto Scaling policy " + p + "-cpu (TargetTrackingScaling)",
		step:             "Auto Scaling policy " + p + "-step (StepScaling)",
		simple:           "Auto Scaling policy " + p + "-simple (SimpleScaling)",
		forecastAndScale: "Auto Scaling policy " + p + "-fas (PredictiveScaling)",
		forecastOnly:     "",
		several:          "Auto Scaling policy " + p + "-b-step (StepScaling)",
		none:             "",
	}
	groups := []string{tt, step, simple, forecastAndScale, forecastOnly, several, none}
	for _, g := range more {
		want[g] = ""
		groups = append(groups, g)
	}
	inst := runInstances(t, 1, "t3.micro", nil)[0]
	rec, inputs := policyInputs()
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{AutoScaling: rec}))

	listed, err := d.List(tctx(t), provider.Filter{IDs: append([]string{inst}, groups...)})
	require.NoError(t, err)
	require.Len(t, listed, len(groups)+1)
	got := map[string]string{}
	for _, r := range listed {
		if r.Kind == provider.KindGroup {
			got[r.ID] = r.ScaledBy
		} else {
			assert.Empty(t, r.ScaledBy, "%s: an instance", r.ID)
		}
	}
	assert.Equal(t, want, got)
	in := inputs()
	require.Len(t, in, 1, "one DescribePolicies for the region")
	assert.Nil(t, in[0].AutoScalingGroupName, "every group's policies")

	// Few groups: each group's policies alone, the same answers.
	few := []string{several, forecastOnly, tt}
	listed, err = d.List(tctx(t), provider.Filter{IDs: append([]string{inst}, few...)})
	require.NoError(t, err)
	require.Len(t, listed, len(few)+1)
	for _, r := range listed {
		assert.Equal(t, want[r.ID], r.ScaledBy, "%s: few groups", r.ID)
	}
	var named []string
	for _, in := range inputs() {
		named = append(named, awssdk.ToString(in.AutoScalingGroupName))
	}
	assert.ElementsMatch(t, few, named, "few groups: one DescribePolicies each, naming it")
	fewReads := []provider.ResourceRead{{ID: inst}}
	for _, g := range few {
		fewReads = append(fewReads, provider.ResourceRead{ID: g})
	}
	require.NoError(t, d.GetResources(tctx(t), fewReads))
	for _, r := range fewReads {
		require.NoError(t, r.Err)
		assert.Equal(t, want[r.ID], r.Resource.ScaledBy, "%s: a batch of few groups", r.ID)
	}
	named = nil
	for _, in := range inputs() {
		named = append(named, awssdk.ToString(in.AutoScalingGroupName))
	}
	assert.ElementsMatch(t, few, named, "a batch of few groups: one DescribePolicies each, naming it")

	_, err = d.List(tctx(t), provider.Filter{Kinds: []provider.Kind{provider.KindInstance}})
	require.NoError(t, err)
	_, err = d.List(tctx(t), provider.Filter{Kinds: []provider.Kind{provider.KindGroup}, Tags: map[string]string{"owner": uniq("nobody")}})
	require.NoError(t, err)
	assert.Empty(t, inputs(), "no group listed: no DescribePolicies")

	reads := []provider.ResourceRead{{ID: inst}}
	for _, g := range groups {
		reads = append(reads, provider.ResourceRead{ID: g})
	}
	require.NoError(t, d.GetResources(tctx(t), reads))
	assert.Len(t, inputs(), 1, "a batch: one DescribePolicies for the region")
	for _, r := range reads[1:] {
		require.NoError(t, r.Err)
		assert.Equal(t, want[r.ID], r.Resource.ScaledBy, r.ID)
		one, err := d.Get(tctx(t), r.ID)
		require.NoError(t, err)
		assert.Equal(t, want[r.ID], one.ScaledBy, r.ID)
		in := inputs()
		require.Len(t, in, 1, "Get: one DescribePolicies")
		assert.Equal(t, r.ID, awssdk.ToString(in[0].AutoScalingGroupName), "Get: the group's policies alone")
	}
	require.NoError(t, reads[0].Err)
	assert.Empty(t, reads[0].Resource.ScaledBy)
	_, err = d.Get(tctx(t), inst)
	require.NoError(t, err)
	require.NoError(t, d.GetResources(tctx(t), reads[:1]))
	assert.Empty(t, inputs(), "an instance alone: no DescribePolicies")

	rec, inputs = policyInputs()
	cfg := fastConfig()
	cfg.IgnoreScalingPolicies = true
	ignoring := newDriverConfig(t, cfg, awsprovider.WithClients(awsprovider.Clients{AutoScaling: rec}))
	listed, err = ignoring.List(tctx(t), provider.Filter{IDs: groups})
	require.NoError(t, err)
	require.Len(t, listed, len(groups))
	for _, r := range listed {
		assert.Empty(t, r.ScaledBy, "%s: config.ignore_scaling_policies", r.ID)
	}
	one, err := ignoring.Get(tctx(t), tt)
	require.NoError(t, err)
	assert.Empty(t, one.ScaledBy)
	require.NoError(t, ignoring.GetResources(tctx(t), reads))
	for _, r := range reads {
		require.NoError(t, r.Err)
		assert.Empty(t, r.Resource.ScaledBy, r.ID)
	}
	assert.Empty(t, inputs(), "config.ignore_scaling_policies: no DescribePolicies")
	assert.Zero(t, rec.count("DescribePolicies"))
}

// TestScalingPoliciesFromEveryPage: what moto does not do. It keeps no
// Enabled (a disabled policy reads as enabled) and never pages
// DescribePolicies, so a fake answers in pages of Config.PageSize: a
// disabled policy scales nothing, Enabled true and nil (Auto Scaling's
// default) scale, a policy without a type is SimpleScaling (the
// default), a predictive one without a configuration or a mode forecasts
// only (the mode's default), a type the driver does not know scales (the safe
// side), and a policy on the last page counts. List and GetResources read
// 11 groups, more than they read the policies of group by group at this
// page size (10), so they read the region's.
func TestScalingPoliciesFromEveryPage(t *testing.T) {
	t.Parallel()
	pol := func(group, name, typ string, enabled *bool) asgtypes.ScalingPolicy {
		p := asgtypes.ScalingPolicy{AutoScalingGroupName: awssdk.String(group), PolicyName: awssdk.String(name), Enabled: enabled}
		if typ != "" {
			p.PolicyType = awssdk.String(typ)
		}
		return p
	}
	modeless := pol("modeless", "forecast", "PredictiveScaling", nil)
	modeless.PredictiveScalingConfiguration = &asgtypes.PredictiveScalingConfiguration{}
	pages := [][]asgtypes.ScalingPolicy{
		{
			pol("disabled", "a-cpu", "TargetTrackingScaling", awssdk.Bool(false)),
			pol("disabled", "b-step", "StepScaling", awssdk.Bool(false)),
			pol("enabled", "cpu", "TargetTrackingScaling", awssdk.Bool(true)),
			pol("untyped", "legacy", "", nil),
		},
		{
			pol("unconfigured", "forecast", "PredictiveScaling", nil),
			modeless,
			pol("unknown", "future", "QuantumScaling", nil),
			pol("last-page", "z-simple", "SimpleScaling", nil),
			pol("disabled-first", "a-off", "StepScaling", awssdk.Bool(false)),
			pol("disabled-first", "b-on", "StepScaling", nil),
		},
	}
	want := map[string]string{
		"disabled":       "",
		"enabled":        "Auto Scaling policy cpu (TargetTrackingScaling)",
		"untyped":        "Auto Scaling policy legacy (SimpleScaling)",
		"unconfigured":   "",
		"modeless":       "",
		"unknown":        "Auto Scaling policy future (QuantumScaling)",
		"last-page":      "Auto Scaling policy z-simple (SimpleScaling)",
		"disabled-first": "Auto Scaling policy b-on (StepScaling)",
		"none":           "",
		"none-2":         "",
		"none-3":         "",
	}
	var groups []asgtypes.AutoScalingGroup
	for name := range want {
		groups = append(groups, asgtypes.AutoScalingGroup{AutoScalingGroupName: awssdk.String(name),
			MinSize: awssdk.Int32(0), MaxSize: awssdk.Int32(4), DesiredCapacity: awssdk.Int32(1)})
	}
	var mu sync.Mutex
	var tokens []string
	asg := &recordingASG{
		describe: func(_ context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
			var out []asgtypes.AutoScalingGroup
			for _, g := range groups {
				if len(in.AutoScalingGroupNames) == 0 || slices.Contains(in.AutoScalingGroupNames, *g.AutoScalingGroupName) {
					out = append(out, g)
				}
			}
			return &autoscaling.DescribeAutoScalingGroupsOutput{AutoScalingGroups: out}, nil
		},
		policies: func(_ context.Context, in *autoscaling.DescribePoliciesInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribePoliciesOutput, error) {
			mu.Lock()
			tokens = append(tokens, awssdk.ToString(in.NextToken))
			mu.Unlock()
			if awssdk.ToInt32(in.MaxRecords) != 5 {
				return nil, &smithy.GenericAPIError{Code: "ValidationError", Message: "want MaxRecords 5"}
			}
			var page []asgtypes.ScalingPolicy
			out := &autoscaling.DescribePoliciesOutput{}
			if in.NextToken == nil {
				page, out.NextToken = pages[0], awssdk.String("page-2")
			} else {
				page = pages[1]
			}
			for _, p := range page {
				if in.AutoScalingGroupName == nil || *in.AutoScalingGroupName == *p.AutoScalingGroupName {
					out.ScalingPolicies = append(out.ScalingPolicies, p)
				}
			}
			return out, nil
		},
	}
	cfg := fastConfig()
	cfg.PageSize = 5
	d := newDriverConfig(t, cfg, awsprovider.WithClients(awsprovider.Clients{EC2: offlineEC2{newOffline(0)}, AutoScaling: asg,
		CloudWatch: offlineCW{}, Lambda: offlineLambda{}}))
	taken := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := tokens
		tokens = nil
		return out
	}

	listed, err := d.List(tctx(t), provider.Filter{Kinds: []provider.Kind{provider.KindGroup}})
	require.NoError(t, err)
	got := map[string]string{}
	for _, r := range listed {
		got[r.ID] = r.ScaledBy
	}
	assert.Equal(t, want, got)
	assert.Equal(t, []string{"", "page-2"}, taken(), "List: both pages")

	var reads []provider.ResourceRead
	for name := range want {
		reads = append(reads, provider.ResourceRead{ID: name})
	}
	require.NoError(t, d.GetResources(tctx(t), reads))
	for _, r := range reads {
		require.NoError(t, r.Err)
		assert.Equal(t, want[r.ID], r.Resource.ScaledBy, r.ID)
	}
	assert.Equal(t, []string{"", "page-2"}, taken(), "GetResources: both pages, once")

	for name, by := range want {
		r, err := d.Get(tctx(t), name)
		require.NoError(t, err)
		assert.Equal(t, by, r.ScaledBy, name)
		assert.Equal(t, []string{"", "page-2"}, taken(), "Get %s: both pages", name)
	}
}

// denyPolicies answers DescribePolicies with Auto Scaling's AccessDenied,
// as for a role without autoscaling:DescribePolicies, and sends every
// other Auto Scaling call to moto.
type denyPolicies struct{ next *http.Client }

func (d denyPolicies) Do(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	_ = r.Body.Close()
	if strings.Contains(string(body), "Action=DescribePolicies") {
		const msg = "User: arn:aws:iam::123456789012:user/reader is not authorized to perform: autoscaling:DescribePolicies because no identity-based policy allows the autoscaling:DescribePolicies action"
		return &http.Response{
			StatusCode: http.StatusForbidden, Status: "403 Forbidden", Request: r,
			Header: http.Header{"Content-Type": {"text/xml"}, "X-Amzn-Requestid": {"req-1"}},
			Body: io.NopCloser(strings.NewReader(`<ErrorResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><Error><Type>Sender</Type>` +
				`<Code>AccessDenied</Code><Message>` + msg + `</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`)),
		}, nil
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return d.next.Do(r)
}

// TestScalingPoliciesDeniedFailTheRead: a role that may not call
// DescribePolicies gets an error naming the IAM action from List, Get
// and every group read of GetResources, not an inventory that says no
// policy scales a group (which would let the Autoscaler fight one). What
// does not read groups still works, and so does everything with
// Config.IgnoreScalingPolicies.
func TestScalingPoliciesDeniedFailTheRead(t *testing.T) {
	t.Parallel()
	group := createGroup(t, 1, 4, 1, nil)
	putPolicy(t, group, uniq("pol"), "TargetTrackingScaling", "")
	inst := runInstances(t, 1, "t3.micro", nil)[0]
	deny := awsprovider.WithAutoScalingOptions(func(o *autoscaling.Options) { o.HTTPClient = denyPolicies{next: &http.Client{}} })
	d := newDriver(t, deny)
	denied := func(t *testing.T, err error) {
		t.Helper()
		require.Error(t, err)
		var api smithy.APIError
		require.ErrorAs(t, err, &api, "the SDK's error stays in the chain")
		assert.Equal(t, "AccessDenied", api.ErrorCode())
		require.ErrorIs(t, err, provider.ErrDenied)
		assert.Contains(t, err.Error(), "scaling policies (IAM action autoscaling:DescribePolicies; Config.IgnoreScalingPolicies skips them)")
		for _, s := range []error{provider.ErrNotFound, provider.ErrThrottled, provider.ErrConflict, provider.ErrUnsupported, provider.ErrInvalid} {
			assert.NotErrorIs(t, err, s)
		}
	}

	_, err := d.List(tctx(t), provider.Filter{IDs: []string{group, inst}})
	denied(t, err)
	assert.Contains(t, err.Error(), "aws: list groups: ")
	_, err = d.Get(tctx(t), group)
	denied(t, err)
	assert.Contains(t, err.Error(), `aws: get "`+group+`": `)
	reads := []provider.ResourceRead{{ID: group}, {ID: inst}}
	require.NoError(t, d.GetResources(tctx(t), reads), "the reads fail, not the batch")
	denied(t, reads[0].Err)
	assert.Contains(t, reads[0].Err.Error(), `aws: get "`+group+`": `)
	assert.Empty(t, reads[0].Resource)
	require.NoError(t, reads[1].Err, "an instance needs no policy")

	insts, err := d.List(tctx(t), provider.Filter{IDs: []string{inst}, Kinds: []provider.Kind{provider.KindInstance}})
	require.NoError(t, err, "no group read, no DescribePolicies")
	assert.Len(t, insts, 1)
	_, err = d.Capacity(tctx(t), group)
	require.NoError(t, err, "Capacity reads no policy")

	cfg := fastConfig()
	require.NoError(t, json.Unmarshal([]byte(`{"ignore_scaling_policies": true}`), &cfg))
	require.True(t, cfg.IgnoreScalingPolicies)
	ignoring := newDriverConfig(t, cfg, deny)
	listed, err := ignoring.List(tctx(t), provider.Filter{IDs: []string{group, inst}})
	require.NoError(t, err, "config.ignore_scaling_policies: no call, no permission needed")
	assert.Len(t, listed, 2)
	_, err = ignoring.Get(tctx(t), group)
	require.NoError(t, err)
	require.NoError(t, ignoring.GetResources(tctx(t), reads))
	require.NoError(t, reads[0].Err)
}

// TestScalingPoliciesCanceled: a context that ends during the batch's
// DescribePolicies ends GetResources with its error, on every read (the
// instance's too), as a describe call's would.
func TestScalingPoliciesCanceled(t *testing.T) {
	t.Parallel()
	group := createGroup(t, 1, 4, 1, nil)
	inst := runInstances(t, 1, "t3.micro", nil)[0]
	ctx, cancel := context.WithCancel(tctx(t))
	defer cancel()
	asg := &recordingASG{AutoScalingAPI: sdk().asg, policies: func(ctx context.Context, _ *autoscaling.DescribePoliciesInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribePoliciesOutput, error) {
		cancel()
		return nil, ctx.Err()
	}}
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{AutoScaling: asg}))
	reads := []provider.ResourceRead{{ID: inst}, {ID: group}}
	err := d.GetResources(ctx, reads)
	require.ErrorIs(t, err, context.Canceled)
	for _, r := range reads {
		require.ErrorIs(t, r.Err, context.Canceled, r.ID)
		assert.Empty(t, r.Resource, r.ID)
	}
	assert.Equal(t, 1, asg.count("DescribePolicies"))
}

// bigRegion is a fake Auto Scaling region of 2,500 groups with 2
// scaling policies each, 5,000 in all, listed so that a group's two
// policies are 2,500 apart (on different pages), and paged as Auto
// Scaling pages DescribePolicies (MaxRecords, default 50; a group name
// filters before paging). It counts the calls.
type bigRegion struct {
	recordingASG
	groups []asgtypes.AutoScalingGroup
	pols   []asgtypes.ScalingPolicy
}

// bigGroup is the name of the big region's g-th group.
func bigGroup(g int) string { return fmt.Sprintf("g%04d", g) }

// bigScaledBy is what the big region's g-th group's ScaledBy must be,
// from how newBigRegion makes its policies (g%4).
func bigScaledBy(g int) string {
	switch g % 4 {
	case 0:
		return "Auto Scaling policy b-step (StepScaling)"
	case 1:
		return "Auto Scaling policy c-simple (SimpleScaling)"
	case 2:
		return "" // forecast only
	}
	return "Auto Scaling policy x-fas (PredictiveScaling)"
}

func newBigRegion() *bigRegion {
	const n = 2500
	b := &bigRegion{}
	byGroup := make([][2]asgtypes.ScalingPolicy, n)
	for g := range n {
		name := awssdk.String(bigGroup(g))
		b.groups = append(b.groups, asgtypes.AutoScalingGroup{AutoScalingGroupName: name,
			MinSize: awssdk.Int32(0), MaxSize: awssdk.Int32(4), DesiredCapacity: awssdk.Int32(1)})
		pol := func(policy, typ string) asgtypes.ScalingPolicy {
			return asgtypes.ScalingPolicy{AutoScalingGroupName: name, PolicyName: awssdk.String(policy), PolicyType: awssdk.String(typ)}
		}
		switch g % 4 {
		case 0: // the first by name scales: listed second
			byGroup[g] = [2]asgtypes.ScalingPolicy{pol("z-cpu", "TargetTrackingScaling"), pol("b-step", "StepScaling")}
		case 1: // the first by name is disabled
			off := pol("a-off", "StepScaling")
			off.Enabled = awssdk.Bool(false)
			byGroup[g] = [2]asgtypes.ScalingPolicy{off, {AutoScalingGroupName: name, PolicyName: awssdk.String("c-simple")}}
		case 2: // forecasts only
			byGroup[g] = [2]asgtypes.ScalingPolicy{pol("a-forecast", "PredictiveScaling"), pol("b-forecast", "PredictiveScaling")}
			byGroup[g][0].PredictiveScalingConfiguration = &asgtypes.PredictiveScalingConfiguration{Mode: asgtypes.PredictiveScalingModeForecastOnly}
		case 3:
			byGroup[g] = [2]asgtypes.ScalingPolicy{pol("x-fas", "PredictiveScaling"), pol("y-future", "QuantumScaling")}
			byGroup[g][0].PredictiveScalingConfiguration = &asgtypes.PredictiveScalingConfiguration{Mode: asgtypes.PredictiveScalingModeForecastAndScale}
		}
	}
	for k := range 2 {
		for g := range n {
			b.pols = append(b.pols, byGroup[g][k])
		}
	}
	b.describe = func(_ context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
		if len(in.AutoScalingGroupNames) == 0 {
			return &autoscaling.DescribeAutoScalingGroupsOutput{AutoScalingGroups: b.groups}, nil
		}
		out := &autoscaling.DescribeAutoScalingGroupsOutput{}
		for _, name := range in.AutoScalingGroupNames {
			var g int
			if _, err := fmt.Sscanf(name, "g%04d", &g); err == nil && g < n && bigGroup(g) == name {
				out.AutoScalingGroups = append(out.AutoScalingGroups, b.groups[g])
			}
		}
		return out, nil
	}
	b.policies = func(_ context.Context, in *autoscaling.DescribePoliciesInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribePoliciesOutput, error) {
		pols := b.pols
		if in.AutoScalingGroupName != nil {
			pols = slices.DeleteFunc(slices.Clone(pols), func(p asgtypes.ScalingPolicy) bool { return *p.AutoScalingGroupName != *in.AutoScalingGroupName })
		}
		size := 50
		if in.MaxRecords != nil {
			size = int(*in.MaxRecords)
		}
		start := 0
		if in.NextToken != nil {
			start, _ = strconv.Atoi(*in.NextToken)
		}
		end := min(start+size, len(pols))
		out := &autoscaling.DescribePoliciesOutput{ScalingPolicies: pols[start:end]}
		if end < len(pols) {
			out.NextToken = awssdk.String(strconv.Itoa(end))
		}
		return out, nil
	}
	return b
}

// TestScalingPoliciesOfFewGroupsCostFewCalls: in a region of 5,000
// scaling policies, reading them all costs 100 DescribePolicies calls at
// Auto Scaling's default page of 50 (50 at 100 a page). A GetResources
// batch or a List of one group costs one call (the group's policies
// alone), of 10 groups 10 calls; of 11 groups, and of every group, the
// region's 100 (5 groups at 100 a page, 6: the region's 50). Every way,
// every group's ScaledBy is the same.
func TestScalingPoliciesOfFewGroupsCostFewCalls(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                       string
		pageSize, few, regionPages int
	}{
		{"default page", 0, 10, 100},
		{"100 a page", 100, 5, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			asg := newBigRegion()
			cfg := fastConfig()
			cfg.PageSize = tt.pageSize
			d := newDriverConfig(t, cfg, awsprovider.WithClients(awsprovider.Clients{EC2: offlineEC2{newOffline(0)}, AutoScaling: asg,
				CloudWatch: offlineCW{}, Lambda: offlineLambda{}}))
			calls := func() func() int {
				before := asg.count("DescribePolicies")
				return func() int { return asg.count("DescribePolicies") - before }
			}
			check := func(t *testing.T, what string, rs []provider.Resource) {
				t.Helper()
				for _, r := range rs {
					var g int
					_, err := fmt.Sscanf(r.ID, "g%04d", &g)
					require.NoError(t, err)
					assert.Equal(t, bigScaledBy(g), r.ScaledBy, "%s: %s", what, r.ID)
				}
			}
			batch := func(t *testing.T, n int) []provider.Resource {
				t.Helper()
				reads := make([]provider.ResourceRead, n)
				for i := range reads {
					reads[i].ID = bigGroup(1234 + i)
				}
				require.NoError(t, d.GetResources(tctx(t), reads))
				var rs []provider.Resource
				for _, r := range reads {
					require.NoError(t, r.Err)
					rs = append(rs, r.Resource)
				}
				return rs
			}

			n := calls()
			one := batch(t, 1)
			assert.Equal(t, 1, n(), "a batch of one group: its policies alone")
			check(t, "a batch of one", one)
			n = calls()
			listed, err := d.List(tctx(t), provider.Filter{IDs: []string{bigGroup(1234)}})
			require.NoError(t, err)
			assert.Equal(t, 1, n(), "a List of one group: its policies alone")
			assert.Equal(t, one, listed)

			n = calls()
			few := batch(t, tt.few)
			assert.Equal(t, tt.few, n(), "a batch of %d groups: one call each", tt.few)
			check(t, "a batch of few", few)
			n = calls()
			more := batch(t, tt.few+1)
			assert.Equal(t, tt.regionPages, n(), "a batch of %d groups: the region's policies, every page", tt.few+1)
			check(t, "a batch of more", more)
			assert.Equal(t, few, more[:tt.few], "the same groups read either way")
			for i, r := range few { // in batches of 1 to few
				assert.Equal(t, r, batch(t, 1+i)[i])
			}

			n = calls()
			all, err := d.List(tctx(t), provider.Filter{Kinds: []provider.Kind{provider.KindGroup}})
			require.NoError(t, err)
			require.Len(t, all, 2500)
			assert.Equal(t, tt.regionPages, n(), "every group: the region's policies, every page")
			check(t, "every group", all)
			assert.Equal(t, more, all[1234:1234+tt.few+1], "the same groups read either way")
		})
	}
}
