package aws

import (
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/idlescale/idlescale/provider"
)

// TagKeys names the tags the driver maps onto resource metadata. Keys are
// matched case-insensitively ("Environment" matches "environment"); of a
// key a resource carries in several spellings (EC2's tag keys are
// case-sensitive), the value is the one spelled exactly as the key, else
// the first spelling's in sort order, spellings whose values disagree
// make the resource protected, as a malformed value does, and the
// protection tag protects it when any spelling says so. The
// values of the environment, role and owner tags are normalised
// (provider.Resource.NormalizeLabels: "production " is "production");
// Resource.Tags keeps them verbatim. The zero value means the defaults.
type TagKeys struct {
	// Environment fills Resource.Environment. Default: "environment".
	Environment string `json:"environment,omitempty" yaml:"environment,omitempty"`
	// Role fills Resource.Role. Default: "role".
	Role string `json:"role,omitempty" yaml:"role,omitempty"`
	// Criticality fills Resource.Criticality from low, medium, high or
	// critical (any case); other values leave it unknown and make the
	// resource protected. Default: "criticality".
	Criticality string `json:"criticality,omitempty" yaml:"criticality,omitempty"`
	// Owner fills Resource.Owner. Default: "owner".
	Owner string `json:"owner,omitempty" yaml:"owner,omitempty"`
	// Protection sets Resource.Protected when present with any value but
	// "false", "no", "0" or "off". Default: "idlescale:protected".
	Protection string `json:"protection,omitempty" yaml:"protection,omitempty"`
	// TimeZone fills Resource.TimeZone when it names an IANA zone; other
	// values leave it unset and make the resource protected. Default:
	// "timezone".
	TimeZone string `json:"time_zone,omitempty" yaml:"time_zone,omitempty"`
	// Verified, on an EBS snapshot, says how the snapshot was verified
	// ("restore-test", "checksum", a tool name); see the package doc.
	// Default: "idlescale:verified".
	Verified string `json:"verified,omitempty" yaml:"verified,omitempty"`
	// VerifiedAt, on an EBS snapshot, is when it was verified, in RFC 3339.
	// Default: "idlescale:verified-at".
	VerifiedAt string `json:"verified_at,omitempty" yaml:"verified_at,omitempty"`
}

func (k TagKeys) withDefaults() TagKeys {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&k.Environment, "environment")
	def(&k.Role, "role")
	def(&k.Criticality, "criticality")
	def(&k.Owner, "owner")
	def(&k.Protection, "idlescale:protected")
	def(&k.TimeZone, "timezone")
	def(&k.Verified, "idlescale:verified")
	def(&k.VerifiedAt, "idlescale:verified-at")
	return k
}

// Config is the driver's policy, as a host would load it from YAML or
// JSON; New takes it with the SDK's aws.Config (region and credentials).
// The zero value means the defaults; Validate reports the first invalid
// field.
type Config struct {
	// Name is the provider name reported in Resource.Provider and by
	// Driver.Name. Default: "aws" (the constant Name).
	Name string `json:"name,omitempty" yaml:"name,omitempty"`

	// AccountID is the AWS account (12 digits) the driver's credentials
	// belong to. An ARN given to the driver must name this account (see
	// the package doc, "Resource IDs"); when it is empty, the driver asks
	// STS GetCallerIdentity once, the first time it is given an ARN naming
	// an account, and keeps the answer (a call that fails is made again
	// at the next ARN). A host that cannot reach STS (a VPC without its
	// endpoint) and passes ARNs sets it. Default: "" (looked up).
	AccountID string `json:"account_id,omitempty" yaml:"account_id,omitempty"`

	// Tags names the metadata tags. Default: see TagKeys.
	Tags TagKeys `json:"tags,omitzero" yaml:"tags,omitempty"`

	// NoWait makes Start, Stop and Terminate return as soon as EC2 accepted
	// the change instead of waiting for the target state (an instance's,
	// or a volume deleted). Resize always
	// waits (it must stop an instance before changing its type). Default:
	// false (wait).
	NoWait bool `json:"no_wait,omitempty" yaml:"no_wait,omitempty"`
	// WaitTimeout bounds each wait for a target state (instance running,
	// stopped or terminated; a volume deleted; a Lambda update done). The caller's context
	// still applies. Default: 10m.
	WaitTimeout time.Duration `json:"wait_timeout,omitempty" yaml:"wait_timeout,omitempty"`
	// WaitMinDelay is the SDK waiters' shortest delay between polls; the
	// first poll is immediate. Default: 5s.
	WaitMinDelay time.Duration `json:"wait_min_delay,omitempty" yaml:"wait_min_delay,omitempty"`
	// WaitMaxDelay is the waiters' longest delay between polls (their
	// back-off grows up to it). Default: 1m.
	WaitMaxDelay time.Duration `json:"wait_max_delay,omitempty" yaml:"wait_max_delay,omitempty"`

	// Hibernate makes Stop hibernate instances (EC2 StopInstances with
	// Hibernate); instances not enabled for hibernation make Stop fail with
	// provider.ErrUnsupported. Default: false.
	Hibernate bool `json:"hibernate,omitempty" yaml:"hibernate,omitempty"`
	// HonorCooldown makes SetCapacity honour the group's cooldown when only
	// the desired capacity changes (SetDesiredCapacity with HonorCooldown);
	// a call inside the cooldown changes nothing and fails with an error
	// matching provider.ErrThrottled (and provider.ErrConflict), as does
	// one Auto Scaling refuses while a scaling activity is in progress
	// (ScalingActivityInProgress, whatever its message says), which the
	// scaling engine retries within its RetryDeadline: a host that sets
	// it should give the engine a RetryDeadline longer than its groups'
	// cooldown (Auto Scaling's default cooldown is 300 s, the engine's
	// default RetryDeadline 2 min), or a plan's next step fails while the
	// cooldown its first step started lasts. A rollback is not refused
	// so: a SetCapacity whose context is marked by provider.WithRollback
	// (as the scaling engine marks its rollback writes, also those of a
	// rollback resumed after a restart) is sent with HonorCooldown false,
	// since the cooldown in effect is most often the one the change it
	// undoes started. Default: false.
	HonorCooldown bool `json:"honor_cooldown,omitempty" yaml:"honor_cooldown,omitempty"`

	// IgnoreScalingPolicies skips the inventory's reading of the Auto
	// Scaling groups' scaling policies, and with it the IAM permission it
	// needs (autoscaling:DescribePolicies), for a host that knows no
	// policy scales its groups: Resource.ScaledBy is then always empty.
	// With the policies read (the default), List, Get and GetResources
	// name in ScaledBy a policy that changes a group's desired capacity by
	// itself, and a DescribePolicies call that fails fails the read: see
	// the package doc's "Scaling alongside Auto Scaling policies".
	// Default: false.
	IgnoreScalingPolicies bool `json:"ignore_scaling_policies,omitempty" yaml:"ignore_scaling_policies,omitempty"`

	// MaxAttempts bounds the SDK retryer's attempts per API call, the
	// first included; throttling and server errors are retried with
	// exponential back-off, then returned (throttling as
	// provider.ErrThrottled). Default: 5. Range: 1–20.
	MaxAttempts int `json:"max_attempts,omitempty" yaml:"max_attempts,omitempty"`
	// MaxBackoff bounds the retryer's delay between attempts. Default: 20s.
	MaxBackoff time.Duration `json:"max_backoff,omitempty" yaml:"max_backoff,omitempty"`

	// PageSize is the page size asked of the list operations
	// (DescribeInstances, DescribeVolumes, DescribeAutoScalingGroups,
	// DescribePolicies, ListFunctions, DescribeSnapshots, ELBv2
	// DescribeLoadBalancers), capped at each operation's maximum (500 for
	// DescribeVolumes, 100 for Auto Scaling, 50 for Lambda, 400 for ELBv2). Every page is read.
	// Default: 0, the services' own default page sizes. Range: 0 or
	// 5–1000.
	PageSize int `json:"page_size,omitempty" yaml:"page_size,omitempty"`
	// MetricBatch is how many metric queries QueryMetrics and Activities
	// send in one GetMetricData call (Activities keeps a read's one to
	// five queries in one call, alone when they are more). Default: 500
	// (CloudWatch's maximum). Range: 1–500.
	MetricBatch int `json:"metric_batch,omitempty" yaml:"metric_batch,omitempty"`
	// Concurrency bounds the parallel per-function calls (Lambda GetFunction)
	// of List. Default: 4.
	Concurrency int `json:"concurrency,omitempty" yaml:"concurrency,omitempty"`

	// PublishDelay is how long after a minute ends CloudWatch may still
	// be publishing Lambda's, Elastic Load Balancing's and EBS's
	// datapoints of it. A Lambda function's invocations, errors and
	// throttles, and an Application Load Balancer's requests, have a
	// datapoint only for a minute with such events, and a detached EBS
	// volume's reads and writes none, so a step without one reads as 0 (see the
	// package doc, "Quiet counts") once it ended at least
	// PublishDelay before the real time of the read: until then a missing
	// datapoint may be one not yet published, and the step stays a gap.
	// Lambda sends its metrics once a minute and CloudWatch shows them
	// within a minute or two as a rule; 5 minutes leaves a margin for a
	// late one, as scaling.Signal.PublishDelay's default does. A datapoint
	// published later still than the delay makes a step read 0 once and
	// its count on a later read. Activity does not wait for it: its count
	// may miss the invocations of the last minutes, as any CloudWatch
	// count may (see the package doc, "Activity").
	// Lambda@Edge: a function replicated to
	// the edge publishes its metrics in the regions where it runs, not in
	// us-east-1, where it is created, so in us-east-1 a function with a
	// published version is not read as quiet (see IgnoreFunctionVersions).
	// Default: 5m. Range: ≥ 0 (0 means the default).
	PublishDelay time.Duration `json:"publish_delay,omitempty" yaml:"publish_delay,omitempty"`
	// IgnoreFunctionVersions skips the check that keeps, in us-east-1,
	// the quiet steps of a function with a published (numbered) version
	// gaps rather than zeros, and with it the call it needs
	// (lambda:ListVersionsByFunction, once per function read whose
	// answer it decides): Lambda@Edge
	// runs only a published version of a function created in us-east-1,
	// and its metrics are in the regions where it ran, so a function in
	// heavy use at the edge has no datapoint in us-east-1 and would read
	// as unused. A host that runs no Lambda@Edge function sets it, so that
	// its versioned functions in us-east-1 read as quiet too. The check
	// is not made in other regions (no edge function is created there).
	// Default: false (checked).
	IgnoreFunctionVersions bool `json:"ignore_function_versions,omitempty" yaml:"ignore_function_versions,omitempty"`

	// HourlyPrices maps EC2 instance types to their price per hour (USD by
	// convention), filling Resource.HourlyCost. Types not listed leave it 0
	// (unknown). Default: none.
	HourlyPrices map[string]float64 `json:"hourly_prices,omitempty" yaml:"hourly_prices,omitempty"`
	// LoadBalancerHourlyCost is the price per hour (USD by convention) of
	// an Application Load Balancer, filling the Resource.HourlyCost of
	// every one listed: its fixed hourly charge, plus what the host
	// expects of its capacity units (LCUs), which the driver does not
	// read. It is the same for every load balancer of the driver's region
	// (about 0.0225 USD an hour, some 16 USD a month, in us-east-1 in
	// 2025, before LCUs: look up the region's price). Default: 0
	// (unknown). Range: a finite number ≥ 0.
	LoadBalancerHourlyCost float64 `json:"load_balancer_hourly_cost,omitempty" yaml:"load_balancer_hourly_cost,omitempty"`
	// VolumeMonthlyPrices maps EBS volume types ("gp3", "gp2", "io2",
	// "st1", "sc1", "standard") to their storage price per GiB-month (USD
	// by convention; about 0.08 for gp3 in us-east-1 in 2025: look up the
	// region's), filling a volume's Resource.HourlyCost: its size in GiB
	// times the price, over the 730.5 hours of an average month. The
	// provisioned IOPS and throughput some types bill beside their storage
	// (io1, io2, and gp3 above its baseline) are not priced. Types not
	// listed leave it 0 (unknown). Default: none. Range: finite numbers
	// ≥ 0.
	VolumeMonthlyPrices map[string]float64 `json:"volume_monthly_prices,omitempty" yaml:"volume_monthly_prices,omitempty"`
}

// Validate reports the first invalid field as a *provider.InvalidError.
func (c Config) Validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"config.wait_timeout", c.WaitTimeout}, {"config.wait_min_delay", c.WaitMinDelay},
		{"config.wait_max_delay", c.WaitMaxDelay}, {"config.max_backoff", c.MaxBackoff},
		{"config.publish_delay", c.PublishDelay},
	} {
		if d.v < 0 {
			return provider.Invalid(d.name, d.v, "must be ≥ 0")
		}
	}
	if c.WaitMinDelay > 0 && c.WaitMaxDelay > 0 && c.WaitMinDelay > c.WaitMaxDelay {
		return provider.Invalid("config.wait_min_delay", c.WaitMinDelay, "must be ≤ wait_max_delay "+c.WaitMaxDelay.String())
	}
	if c.AccountID != "" && !accountIDPattern.MatchString(c.AccountID) {
		return provider.Invalid("config.account_id", c.AccountID, "must be an AWS account ID of 12 digits")
	}
	if c.MaxAttempts < 0 || c.MaxAttempts > 20 {
		return provider.Invalid("config.max_attempts", c.MaxAttempts, "must be 0 (default 5) or 1–20")
	}
	if c.PageSize != 0 && (c.PageSize < 5 || c.PageSize > 1000) {
		return provider.Invalid("config.page_size", c.PageSize, "must be 0 (service default) or 5–1000")
	}
	if c.MetricBatch < 0 || c.MetricBatch > maxMetricBatch {
		return provider.Invalid("config.metric_batch", c.MetricBatch, fmt.Sprintf("must be 0 (default %d) or 1–%d", maxMetricBatch, maxMetricBatch))
	}
	if c.Concurrency < 0 {
		return provider.Invalid("config.concurrency", c.Concurrency, "must be ≥ 0")
	}
	if p := c.LoadBalancerHourlyCost; math.IsNaN(p) || math.IsInf(p, 0) || p < 0 {
		return provider.Invalid("config.load_balancer_hourly_cost", p, "must be a finite number ≥ 0")
	}
	for typ, p := range c.HourlyPrices {
		if math.IsNaN(p) || math.IsInf(p, 0) || p < 0 {
			return provider.Invalid("config.hourly_prices["+typ+"]", p, "must be a finite number ≥ 0")
		}
	}
	for typ, p := range c.VolumeMonthlyPrices {
		if math.IsNaN(p) || math.IsInf(p, 0) || p < 0 {
			return provider.Invalid("config.volume_monthly_prices["+typ+"]", p, "must be a finite number ≥ 0")
		}
	}
	return nil
}

// accountIDPattern is the shape of an AWS account ID.
var accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

// defaultPublishDelay is Config.PublishDelay's default.
const defaultPublishDelay = 5 * time.Minute

// maxMetricBatch is CloudWatch's limit of queries per GetMetricData call.
const maxMetricBatch = 500

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.Name == "" {
		c.Name = Name
	}
	def(&c.WaitTimeout, 10*time.Minute)
	def(&c.WaitMinDelay, 5*time.Second)
	def(&c.WaitMaxDelay, time.Minute)
	def(&c.MaxBackoff, 20*time.Second)
	def(&c.PublishDelay, defaultPublishDelay)
	if c.WaitMinDelay > c.WaitMaxDelay {
		c.WaitMaxDelay = c.WaitMinDelay
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 5
	}
	if c.MetricBatch == 0 {
		c.MetricBatch = maxMetricBatch
	}
	if c.Concurrency == 0 {
		c.Concurrency = 4
	}
	c.Tags = c.Tags.withDefaults()
	return c
}

// Option wires a collaborator of a Driver: service clients, the SDK
// clients' own options or a logger. What configures behaviour is in
// Config.
type Option func(*options)

type options struct {
	clients    Clients
	now        func() time.Time // the real clock; tests set it (export_test.go)
	log        *slog.Logger
	ec2Opts    []func(*ec2.Options)
	asgOpts    []func(*autoscaling.Options)
	cwOpts     []func(*cloudwatch.Options)
	lambdaOpts []func(*lambda.Options)
	elbOpts    []func(*elasticloadbalancingv2.Options)
	stsOpts    []func(*sts.Options)
}

// WithClients replaces the service clients New would build; nil fields keep
// the built ones. Use it to wrap or fake individual operations.
func WithClients(c Clients) Option { return func(o *options) { o.clients = c } }

// WithLogger sets the logger for mutations and waits (debug and info
// levels), with credentials masked (see Driver). Default (and nil):
// discard.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithEC2Options adds option functions applied when New builds the EC2
// client (after the driver's own retryer).
func WithEC2Options(fns ...func(*ec2.Options)) Option {
	return func(o *options) { o.ec2Opts = append(o.ec2Opts, fns...) }
}

// WithAutoScalingOptions adds option functions applied when New builds the
// Auto Scaling client.
func WithAutoScalingOptions(fns ...func(*autoscaling.Options)) Option {
	return func(o *options) { o.asgOpts = append(o.asgOpts, fns...) }
}

// WithCloudWatchOptions adds option functions applied when New builds the
// CloudWatch client. Tests against moto use it to select the awsquery
// protocol (see the package doc); production keeps the SDK's default.
func WithCloudWatchOptions(fns ...func(*cloudwatch.Options)) Option {
	return func(o *options) { o.cwOpts = append(o.cwOpts, fns...) }
}

// WithLambdaOptions adds option functions applied when New builds the Lambda
// client.
func WithLambdaOptions(fns ...func(*lambda.Options)) Option {
	return func(o *options) { o.lambdaOpts = append(o.lambdaOpts, fns...) }
}

// WithELBv2Options adds option functions applied when New builds the
// Elastic Load Balancing (v2) client.
func WithELBv2Options(fns ...func(*elasticloadbalancingv2.Options)) Option {
	return func(o *options) { o.elbOpts = append(o.elbOpts, fns...) }
}

// WithSTSOptions adds option functions applied when New builds the AWS
// Security Token Service client (see Config.AccountID).
func WithSTSOptions(fns ...func(*sts.Options)) Option {
	return func(o *options) { o.stsOpts = append(o.stsOpts, fns...) }
}
