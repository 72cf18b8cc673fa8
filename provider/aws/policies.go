package aws

import (
	"context"
	"fmt"

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

// scaledBy returns, for each Auto Scaling group with a scaling policy that
// changes its desired capacity by itself (scalesItsGroup),
// provider.Resource.ScaledBy: "Auto Scaling policy NAME (TYPE)", the
// first such policy by name. It reads the policies of group, or of every
// group of the region when group is "", with DescribePolicies, every page
// (Config.PageSize, up to 100 a page); none with
// Config.IgnoreScalingPolicies (nil, no call). A failed call is the error,
// naming the IAM action: whether a policy scales a group is then unknown,
// and the inventory does not say none does.
func (d *Driver) scaledBy(ctx context.Context, group string) (map[string]string, error) {
	if d.cfg.IgnoreScalingPolicies {
		return nil, nil
	}
	in := &autoscaling.DescribePoliciesInput{MaxRecords: d.pageSize(100)}
	if group != "" {
		in.AutoScalingGroupName = &group
	}
	first := map[string]*asgtypes.ScalingPolicy{} // the first scaling policy by group
	p := autoscaling.NewDescribePoliciesPaginator(d.asg, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
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

// withScaledBy sets ScaledBy of the groups rs (the region's, or group's
// alone when group is not "") from scaledBy; no call when rs is empty.
func (d *Driver) withScaledBy(ctx context.Context, group string, rs []provider.Resource) error {
	if len(rs) == 0 {
		return nil
	}
	by, err := d.scaledBy(ctx, group)
	if err != nil {
		return err
	}
	for i := range rs {
		rs[i].ScaledBy = by[rs[i].ID]
	}
	return nil
}
