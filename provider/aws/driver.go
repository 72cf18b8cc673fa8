package aws

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/redact"
	"github.com/idlescale/idlescale/provider"
)

// Name is the default provider name the driver reports.
const Name = "aws"

// Driver is the AWS provider. It implements provider.Inventory,
// MetricsSource, Actuator, Scaler, Resizer, BackupCatalog and
// ActivitySource over EC2 (instances and EBS volumes), Auto Scaling,
// CloudWatch, Lambda and Elastic
// Load Balancing (v2); see the package doc for resource IDs, metric
// mappings and IAM permissions.
//
// A Driver is safe for concurrent use; it holds no state besides its
// clients, its configuration and its account ID once looked up (see
// Config.AccountID), and its constructor starts no goroutines.
//
// No error it returns or line it logs shows a credential: AWS access key
// IDs, SigV4 credentials and signatures, security tokens, authorization
// headers and the userinfo of URLs are masked wherever they appear (a
// proxy or a mock that echoes a request), and so are the values of static
// credentials (credentials.StaticCredentialsProvider) and the password of
// the SDK's BaseEndpoint, in any form. Credentials behind another provider
// (a cache, a role) are masked by pattern only. The causes in an error's
// chain (reached with errors.As) keep their own messages.
type Driver struct {
	region string
	cfg    Config
	log    *slog.Logger
	red    *redact.Redactor // masks the credentials the driver knows and what looks like one
	// now is the real clock: CloudWatch's retention and publication are
	// real time, whatever clock the host decides on.
	now func() time.Time

	ec2    EC2API
	asg    AutoScalingAPI
	cw     CloudWatchAPI
	lambda LambdaAPI
	elb    ELBv2API
	sts    STSAPI

	// account is the account the credentials belong to when
	// Config.AccountID is not set, looked up (STS GetCallerIdentity) the
	// first time an ARN needs it. accountSem (one token, taken while a caller reads or looks it
	// up) guards it; a caller waiting for it still heeds its context.
	accountSem chan struct{}
	account    string
}

var (
	_ provider.Inventory     = (*Driver)(nil)
	_ provider.MetricsSource = (*Driver)(nil)
	_ provider.Actuator      = (*Driver)(nil)
	_ provider.Scaler        = (*Driver)(nil)
	_ provider.Resizer       = (*Driver)(nil)
	_ provider.BackupCatalog = (*Driver)(nil)
	_ provider.Namer         = (*Driver)(nil)
)

// New returns a driver configured by cfg (the zero Config means the
// defaults) for the account and region of sdk, the SDK configuration the
// host already has (its Region must be set). It builds the EC2, Auto
// Scaling, CloudWatch, Lambda and Elastic Load Balancing (v2) clients
// from sdk with a bounded standard
// retryer (Config.MaxAttempts, Config.MaxBackoff); WithClients replaces any
// of them. New makes no API call and starts no goroutines. It returns an
// error matching provider.ErrInvalid, naming the field, when cfg is invalid
// (see Config.Validate) or sdk has no region.
func New(cfg Config, sdk awssdk.Config, opts ...Option) (_ *Driver, err error) {
	red := redact.New(knownSecrets(sdk)...)
	defer red.Errorp(&err)
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("aws: new: %w", err)
	}
	if sdk.Region == "" {
		return nil, fmt.Errorf("aws: new: %w", provider.Invalid("aws.Config.Region", sdk.Region, "must be set"))
	}
	var o options
	for _, fn := range opts {
		fn(&o)
	}
	c := cfg.withDefaults()
	d := &Driver{region: sdk.Region, cfg: c, red: red, log: slog.New(slog.DiscardHandler), now: clock.Real{}.Now,
		accountSem: make(chan struct{}, 1)}
	if o.now != nil {
		d.now = o.now
	}
	if o.log != nil {
		d.log = slog.New(red.Handler(o.log.Handler()))
	}
	retryer := func() awssdk.Retryer {
		return retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = c.MaxAttempts
			so.MaxBackoff = c.MaxBackoff
		})
	}
	d.ec2 = o.clients.EC2
	if d.ec2 == nil {
		d.ec2 = ec2.NewFromConfig(sdk, append([]func(*ec2.Options){func(eo *ec2.Options) {
			eo.Retryer, eo.RetryMaxAttempts = retryer(), c.MaxAttempts
		}}, o.ec2Opts...)...)
	}
	d.asg = o.clients.AutoScaling
	if d.asg == nil {
		d.asg = autoscaling.NewFromConfig(sdk, append([]func(*autoscaling.Options){func(ao *autoscaling.Options) {
			ao.Retryer, ao.RetryMaxAttempts = retryer(), c.MaxAttempts
		}}, o.asgOpts...)...)
	}
	d.cw = o.clients.CloudWatch
	if d.cw == nil {
		d.cw = cloudwatch.NewFromConfig(sdk, append([]func(*cloudwatch.Options){func(co *cloudwatch.Options) {
			co.Retryer, co.RetryMaxAttempts = retryer(), c.MaxAttempts
		}}, o.cwOpts...)...)
	}
	d.lambda = o.clients.Lambda
	if d.lambda == nil {
		d.lambda = lambda.NewFromConfig(sdk, append([]func(*lambda.Options){func(lo *lambda.Options) {
			lo.Retryer, lo.RetryMaxAttempts = retryer(), c.MaxAttempts
		}}, o.lambdaOpts...)...)
	}
	d.elb = o.clients.ELBv2
	if d.elb == nil {
		d.elb = elasticloadbalancingv2.NewFromConfig(sdk, append([]func(*elasticloadbalancingv2.Options){func(lo *elasticloadbalancingv2.Options) {
			lo.Retryer, lo.RetryMaxAttempts = retryer(), c.MaxAttempts
		}}, o.elbOpts...)...)
	}
	d.sts = o.clients.STS
	if d.sts == nil {
		d.sts = sts.NewFromConfig(sdk, append([]func(*sts.Options){func(so *sts.Options) {
			so.Retryer, so.RetryMaxAttempts = retryer(), c.MaxAttempts
		}}, o.stsOpts...)...)
	}
	return d, nil
}

// knownSecrets returns the credential values sdk holds that can be read
// without a call: static credentials and the password of BaseEndpoint.
func knownSecrets(sdk awssdk.Config) []string {
	var out []string
	var v awssdk.Credentials
	switch p := sdk.Credentials.(type) {
	case credentials.StaticCredentialsProvider:
		v = p.Value
	case *credentials.StaticCredentialsProvider:
		if p != nil {
			v = p.Value
		}
	}
	out = append(out, v.AccessKeyID, v.SecretAccessKey, v.SessionToken)
	if sdk.BaseEndpoint != nil {
		out = append(out, redact.URLSecrets(*sdk.BaseEndpoint)...)
	}
	return out
}

// Name returns the provider name, Config.Name (default "aws").
func (d *Driver) Name() string { return d.cfg.Name }

// Region returns the region of the driver's clients.
func (d *Driver) Region() string { return d.region }

// target is a resource ID resolved to its kind and the names AWS APIs want.
type target struct {
	kind provider.Kind
	// id is the canonical resource ID (instance or volume ID, group name,
	// function ARN, RDS or load balancer ARN).
	id string
	// name is the value CloudWatch dimensions and the service APIs use:
	// instance or volume ID, group name, function name, DB instance identifier or the
	// load balancer's "app/NAME/ID".
	name string
	// group and function hold what a lookup by name already fetched,
	// loadBalancer and volume what a describe of the load balancer or the
	// volume already fetched.
	group        *asgtypes.AutoScalingGroup
	function     *lambda.GetFunctionOutput
	loadBalancer *elbtypes.LoadBalancer
	volume       *ec2types.Volume
	// groupUUID is the UUID a group's ARN names, "" when the ID is no
	// group ARN or its UUID is unknown (empty or all zeros): a group of
	// the name with another UUID is not the one the ARN names (see
	// checkGroup).
	groupUUID string
}

var (
	instanceIDPattern = regexp.MustCompile(`^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$`)
	volumeIDPattern   = regexp.MustCompile(`^vol-(?:[0-9a-f]{8}|[0-9a-f]{17})$`)
)

// classify resolves the IDs whose form tells their kind, with no API call:
// instance and volume IDs and ARNs. ok is false for a plain name (a group
// or a function name), which lookup resolves.
func classify(id string) (t target, ok bool, err error) {
	if instanceIDPattern.MatchString(id) {
		return target{kind: provider.KindInstance, id: id, name: id}, true, nil
	}
	if volumeIDPattern.MatchString(id) {
		return target{kind: provider.KindVolume, id: id, name: id}, true, nil
	}
	if !strings.HasPrefix(id, "arn:") {
		return target{}, false, nil
	}
	parts := strings.SplitN(id, ":", 6)
	if len(parts) != 6 || parts[5] == "" {
		return target{}, false, provider.Invalid("id", id, "is not a valid ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)")
	}
	service, res := parts[2], parts[5]
	switch {
	case service == "ec2" && strings.HasPrefix(res, "instance/"):
		iid := strings.TrimPrefix(res, "instance/")
		if instanceIDPattern.MatchString(iid) {
			return target{kind: provider.KindInstance, id: iid, name: iid}, true, nil
		}
	case service == "ec2" && strings.HasPrefix(res, "volume/"):
		vid := strings.TrimPrefix(res, "volume/")
		if volumeIDPattern.MatchString(vid) {
			return target{kind: provider.KindVolume, id: vid, name: vid}, true, nil
		}
	case service == "lambda" && strings.HasPrefix(res, "function:"):
		fn, _, _ := strings.Cut(strings.TrimPrefix(res, "function:"), ":") // drop a version or alias
		if fn != "" {
			return target{kind: provider.KindFunction, id: strings.Join(parts[:5], ":") + ":function:" + fn, name: fn}, true, nil
		}
	case service == "autoscaling":
		if _, name, found := strings.Cut(res, "autoScalingGroupName/"); found && name != "" {
			return target{kind: provider.KindGroup, id: name, name: name, groupUUID: groupARNUUID(id)}, true, nil
		}
	case service == "rds" && strings.HasPrefix(res, "db:"):
		return target{kind: provider.KindDatabase, id: id, name: strings.TrimPrefix(res, "db:")}, true, nil
	case service == "elasticloadbalancing" && strings.HasPrefix(res, "loadbalancer/"):
		name := strings.TrimPrefix(res, "loadbalancer/")
		if parts := strings.Split(name, "/"); len(parts) != 3 || slices.Contains(parts, "") {
			// ELBv2 refuses it (ValidationError), and CloudWatch's
			// dimension of it names no load balancer.
			return target{}, false, provider.Invalid("id", id, "is not a load balancer ARN (arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/TYPE/NAME/ID)")
		}
		return target{kind: provider.KindLoadBalancer, id: id, name: name}, true, nil
	}
	return target{}, false, fmt.Errorf("%w: ARN %q: the driver handles EC2 instances, EBS volumes, Auto Scaling groups, Lambda functions, load balancers, and RDS metrics", provider.ErrUnsupported, id)
}

// classify is the package's classify of an ID whose form tells its kind,
// for this driver: an ARN of another region or of another account than
// the driver's names nothing it can reach, and is provider.ErrNotFound
// naming both regions or both accounts. Group names, function names and
// RDS DB identifiers are unique only within an account's region, so
// such an ARN, resolved by its name alone, would name another resource
// of the driver's (an Auto Scaling group of the same name, whose
// capacity SetCapacity would change). The driver's account is
// Config.AccountID, else looked up once (Driver.accountID); a lookup
// that fails fails the ARN.
func (d *Driver) classify(ctx context.Context, id string) (target, bool, error) {
	return d.classifyIn(id, func() (string, error) { return d.accountID(ctx) })
}

// classifyIn is classify with account, which returns the driver's
// account (a batch looks it up once for all its IDs).
func (d *Driver) classifyIn(id string, account func() (string, error)) (target, bool, error) {
	t, ok, err := classify(id)
	if err != nil || !ok {
		return t, ok, err
	}
	parts := strings.SplitN(id, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return t, ok, nil
	}
	if parts[3] != "" && parts[3] != d.region {
		return target{}, false, fmt.Errorf("%w: ARN %q names a resource of region %s, and the driver reads region %s", provider.ErrNotFound, id, parts[3], d.region)
	}
	if parts[4] != "" {
		account, err := account()
		if err != nil {
			return target{}, false, fmt.Errorf("ARN %q: the account of the driver's credentials, which an ARN must name, is not known (set Config.AccountID to skip the lookup): %w", id, err)
		}
		if parts[4] != account {
			return target{}, false, fmt.Errorf("%w: ARN %q names a resource of account %s, and the driver's credentials are of account %s", provider.ErrNotFound, id, parts[4], account)
		}
	}
	return t, ok, nil
}

// accountID returns the account the driver's credentials belong to:
// Config.AccountID, else STS GetCallerIdentity's answer, asked once and
// kept (an error is not kept: the next call asks again).
func (d *Driver) accountID(ctx context.Context) (string, error) {
	if d.cfg.AccountID != "" {
		return d.cfg.AccountID, nil
	}
	select {
	case d.accountSem <- struct{}{}:
		defer func() { <-d.accountSem }()
	case <-ctx.Done():
		return "", wrap("look up the account (sts:GetCallerIdentity)", "", ctx.Err())
	}
	if d.account != "" {
		return d.account, nil
	}
	out, err := d.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", wrap("look up the account (sts:GetCallerIdentity)", "", err)
	}
	account := awssdk.ToString(out.Account)
	if !accountIDPattern.MatchString(account) {
		return "", fmt.Errorf("aws: look up the account (sts:GetCallerIdentity): the answer names no account ID: %q", account)
	}
	d.account = account
	return account, nil
}

// resolve validates id and finds what it names. Instance and volume IDs
// and ARNs
// resolve without an API call (existence is not checked); a plain name is
// looked up as an Auto Scaling group, then as a Lambda function, and an
// error matching provider.ErrNotFound says it is neither, or that the
// function a partial ARN ("ACCOUNT:function:NAME") names is of another
// account or region.
func (d *Driver) resolve(ctx context.Context, op, id string) (target, error) {
	if err := provider.ValidateID(id); err != nil {
		return target{}, fmt.Errorf("aws: %s: %w", op, err)
	}
	if err := ctxErr(ctx, op, id); err != nil {
		return target{}, err
	}
	t, ok, err := d.classify(ctx, id)
	if err != nil {
		return target{}, fmt.Errorf("aws: %s: %w", op, err)
	}
	if ok {
		return t, nil
	}
	g, err := d.describeGroup(ctx, id)
	if err == nil {
		return target{kind: provider.KindGroup, id: id, name: id, group: g}, nil
	}
	if !errors.Is(err, provider.ErrNotFound) {
		return target{}, wrap(op, id, err)
	}
	out, err := d.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: &id})
	if err != nil {
		if errors.Is(sentinel(err), provider.ErrNotFound) {
			return target{}, fmt.Errorf("aws: %s %q: %w: no EC2 instance, Auto Scaling group or Lambda function has this ID: %w", op, id, provider.ErrNotFound, err)
		}
		return target{}, wrap(op, id, err)
	}
	if out.Configuration == nil {
		return target{}, fmt.Errorf("aws: %s %q: GetFunction returned no configuration", op, id)
	}
	arn := awssdk.ToString(out.Configuration.FunctionArn)
	name := awssdk.ToString(out.Configuration.FunctionName)
	if arn == "" {
		arn = id
	} else if strings.Contains(id, ":") {
		// Lambda takes a partial ARN ("ACCOUNT:function:NAME") as a
		// name, and answers with that account's function: it must be the
		// driver's, as an ARN's is (CloudWatch is read by the name).
		if _, _, err := d.classify(ctx, arn); err != nil {
			return target{}, fmt.Errorf("aws: %s %q: %w", op, id, err)
		}
	}
	return target{kind: provider.KindFunction, id: arn, name: name, function: out}, nil
}

// groupARNUUID returns the UUID an Auto Scaling group's ARN
// ("arn:aws:autoscaling:REGION:ACCOUNT:autoScalingGroup:UUID:autoScalingGroupName/NAME")
// names, or "" when it names none or an unknown one: empty or all zeros,
// as a host that builds the ARN from a name writes it.
func groupARNUUID(arn string) string {
	_, rest, found := strings.Cut(arn, ":autoScalingGroup:")
	if !found {
		return ""
	}
	uuid, _, _ := strings.Cut(rest, ":")
	if strings.Trim(uuid, "0-") == "" {
		return ""
	}
	return uuid
}

// checkGroup returns an error matching provider.ErrNotFound, naming both
// UUIDs, when t is a group ARN naming a UUID and g, the group of its name,
// has another: Auto Scaling gives a group created again with the name of
// a deleted one a new UUID, and the ARN names the deleted one, which
// nothing can reach any more (a change or a read by name would be of
// another group than the caller's).
func checkGroup(t target, g *asgtypes.AutoScalingGroup) error {
	if t.groupUUID == "" || g == nil {
		return nil
	}
	arn := awssdk.ToString(g.AutoScalingGroupARN)
	if uuid := groupARNUUID(arn); uuid != t.groupUUID {
		if uuid == "" {
			uuid = "unknown (its ARN " + strconv.Quote(arn) + ")"
		}
		return fmt.Errorf("%w: the ARN names Auto Scaling group %q of UUID %s, and the group of that name is of UUID %s: the group named was deleted and another created with its name",
			provider.ErrNotFound, t.name, t.groupUUID, uuid)
	}
	return nil
}

// targetGroup returns the Auto Scaling group t names: the one resolve
// fetched, else described by name, checked against the UUID of a group
// ARN (checkGroup); an error matching provider.ErrNotFound when there is
// none.
func (d *Driver) targetGroup(ctx context.Context, t target) (*asgtypes.AutoScalingGroup, error) {
	g := t.group
	if g == nil {
		var err error
		if g, err = d.describeGroup(ctx, t.name); err != nil {
			return nil, err
		}
	}
	if err := checkGroup(t, g); err != nil {
		return nil, err
	}
	return g, nil
}

// describeGroup returns the Auto Scaling group called name, or an error
// matching provider.ErrNotFound.
func (d *Driver) describeGroup(ctx context.Context, name string) (*asgtypes.AutoScalingGroup, error) {
	out, err := d.asg.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	if err != nil {
		return nil, err
	}
	for i := range out.AutoScalingGroups {
		if awssdk.ToString(out.AutoScalingGroups[i].AutoScalingGroupName) == name {
			return &out.AutoScalingGroups[i], nil
		}
	}
	return nil, fmt.Errorf("%w: no Auto Scaling group %q", provider.ErrNotFound, name)
}

func (d *Driver) pageSize(limit int) *int32 {
	if d.cfg.PageSize == 0 {
		return nil
	}
	n := int32(min(d.cfg.PageSize, limit))
	return &n
}
