package aws

import (
	"context"
	"fmt"
	"maps"
	"slices"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/idlescale/idlescale/provider"
)

// The Auto Scaling policy types (ScalingPolicy.PolicyType).
const (
	policyTargetTracking = "TargetTrackingScaling"
	policyStep           = "StepScaling"
	policySimple         = "SimpleScaling" // the default: a policy without a type is one
	policyPredictive     = "PredictiveScaling"
)

// policyType returns p's type, SimpleScaling when it has none (Auto
// Scaling's default).
func policyType(p *asgtypes.ScalingPolicy) string {
	if t := awssdk.ToString(p.PolicyType); t != "" {
		return t
	}
	return policySimple
}

// scalesItsGroup reports whether the scaling policy p changes its group's
// desired capacity by itself: it is enabled (Enabled nil is enabled, Auto
// Scaling's default) and it is a target tracking, step or simple scaling
// policy, or a predictive scaling policy in ForecastAndScale mode
// (ForecastOnly, the mode's default, only forecasts). A type the driver
// does not know counts: a policy is there to scale, and an inventory must
// not say nothing else scales a group when that is unknown.
func scalesItsGroup(p *asgtypes.ScalingPolicy) bool {
	if p.Enabled != nil && !*p.Enabled {
		return false
	}
	switch policyType(p) {
	case policyTargetTracking, policyStep, policySimple:
		return true
	case policyPredictive:
		c := p.PredictiveScalingConfiguration
		return c != nil && c.Mode == asgtypes.PredictiveScalingModeForecastAndScale
	}
	return true
}

// maxGroupPolicies is Auto Scaling's quota of scaling policies per
// group, which cannot be raised: one group's policies fit on one
// DescribePolicies page of 50 (the default) or more.
const maxGroupPolicies = 50

// policyCrossover is the size, in scaling policies, of the region whose
// read costs as many DescribePolicies calls as reading the groups one by
// one may cost at most; see byGroup.
const policyCrossover = 500

// policyPage is the DescribePolicies page size: what pageSize asks
// (Config.PageSize, up to the maximum of 100), else Auto Scaling's
// default of 50.
func (d *Driver) policyPage() int {
	if n := d.pageSize(100); n != nil {
		return int(*n)
	}
	return 50
}

// byGroup reports whether the scaling policies of n groups are read group
// by group (DescribePolicies with AutoScalingGroupName) rather than for the
// whole region.
//
// With pages of s policies, reading a region of p policies costs
// ceil(p/s) calls, and reading n groups one by one costs n calls when s
// is 50 or more (a group has at most maxGroupPolicies), at most
// n*ceil(50/s) otherwise. Per group is cheaper exactly when the region
// holds more than n pages of policies, which is not known before reading
// them. The crossover takes per group while its worst case costs no more
// calls than reading a region of policyCrossover policies (Auto
// Scaling's default quota of 500 groups, with one policy each): up to 10
// groups at the default page of 50, 5 at the maximum of 100, at most 10
// at any page size. Per group then costs at most n-1 calls more than the
// region read, in any region (ceil(a)+ceil(b) <= ceil(a+b)+1, and a group
// without policies costs the one call a region without any does), and
// saves up to all of the region read's calls but n (one group of a region
// of 5,000 policies: one call, not 100). One group is always read alone.
func (d *Driver) byGroup(n int) bool {
	s := d.policyPage()
	pages := func(k int) int { return (k + s - 1) / s }
	return n*pages(maxGroupPolicies) <= pages(policyCrossover)
}

// scaledBy returns, for each of the Auto Scaling groups named (each once)
// that has a scaling policy changing its desired capacity by itself
// (scalesItsGroup), provider.Resource.ScaledBy: "Auto Scaling policy NAME
// (TYPE)", the first such policy by name. It reads the policies with
// DescribePolicies, every page (Config.PageSize, up to 100 a page), group
// by group when they are few (byGroup), else every group's of the region
// (the map then has the region's groups); none with
// Config.IgnoreScalingPolicies or without groups (nil, no call). A failed
// call is the error, naming the IAM action: whether a policy scales a
// group is then unknown, and the inventory does not say none does.
func (d *Driver) scaledBy(ctx context.Context, groups []string) (map[string]string, error) {
	if d.cfg.IgnoreScalingPolicies || len(groups) == 0 {
		return nil, nil
	}
	groups = unique(groups)
	if !d.byGroup(len(groups)) {
		return d.policies(ctx, "")
	}
	slices.Sort(groups) // the first failure is always the same one's
	out := make(map[string]string, len(groups))
	for _, g := range groups {
		by, err := d.policies(ctx, g)
		if err != nil {
			return nil, err
		}
		maps.Copy(out, by)
	}
	return out, nil
}

// policies is scaledBy of the policies of group, or of every group of the
// region when group is "".
func (d *Driver) policies(ctx context.Context, group string) (map[string]string, error) {
	in := &autoscaling.DescribePoliciesInput{MaxRecords: d.pageSize(100)}
	if group != "" {
		in.AutoScalingGroupName = &group
	}
	first := map[string]*asgtypes.ScalingPolicy{} // the first scaling policy by group
	p, tokens := autoscaling.NewDescribePoliciesPaginator(d.asg, in), pageTokens{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err == nil {
			err = tokens.next("DescribePolicies", page.NextToken)
		}
		if err != nil {
			return nil, fmt.Errorf("scaling policies (IAM action autoscaling:DescribePolicies; Config.IgnoreScalingPolicies skips them): %w", err)
		}
		for i := range page.ScalingPolicies {
			pol := &page.ScalingPolicies[i]
			g := awssdk.ToString(pol.AutoScalingGroupName)
			if !scalesItsGroup(pol) {
				continue
			}
			if f, seen := first[g]; !seen || awssdk.ToString(pol.PolicyName) < awssdk.ToString(f.PolicyName) {
				first[g] = pol
			}
		}
	}
	out := make(map[string]string, len(first))
	for g, pol := range first {
		out[g] = "Auto Scaling policy " + awssdk.ToString(pol.PolicyName) + " (" + policyType(pol) + ")"
	}
	return out, nil
}

// withScaledBy sets ScaledBy of the groups rs from scaledBy; no call when
// rs is empty.
func (d *Driver) withScaledBy(ctx context.Context, rs []provider.Resource) error {
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.ID
	}
	by, err := d.scaledBy(ctx, names)
	if err != nil {
		return err
	}
	for i := range rs {
		rs[i].ScaledBy = by[rs[i].ID]
	}
	return nil
}
