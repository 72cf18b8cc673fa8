// Package aws is the Amazon Web Services driver of idlescale: EC2 instances,
// EBS volumes, Auto Scaling groups, Lambda functions, Application Load
// Balancers, CloudWatch metrics and EBS snapshots, built on aws-sdk-go-v2.
//
// A Driver implements provider.Inventory, MetricsSource, Actuator, Scaler,
// Resizer, BackupCatalog and ActivitySource, and passes the providertest conformance suite
// against a real moto_server. It is built from the aws.Config the host
// already has; it calls AWS only through small per-operation interfaces in
// the SDK's method shapes (EC2API, AutoScalingAPI, CloudWatchAPI, LambdaAPI,
// ELBv2API and the single-operation interfaces they embed), so a host can wrap or
// fake any operation with WithClients:
//
//	sdk, err := config.LoadDefaultConfig(ctx) // region, credentials, ...
//	d, err := aws.New(aws.Config{HonorCooldown: true}, sdk)
//	idle, err := d.List(ctx, provider.Filter{
//		Kinds:  []provider.Kind{provider.KindInstance},
//		States: []provider.State{provider.StateRunning},
//	})
//	cpu, err := d.QueryMetric(ctx, provider.Query{ResourceID: idle[0].ID,
//		Metric: provider.MetricCPU, Start: from, End: to, Step: time.Hour})
//
// # Resource IDs
//
// Instances are identified by their instance ID ("i-0abc..."), EBS
// volumes by their volume ID ("vol-" and 8 or 17 hex digits), Auto
// Scaling groups by their name, Lambda functions by their unqualified ARN,
// load balancers by their ARN
// ("arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID";
// one without a type, a name and an ID, or that ELBv2 refuses as no load
// balancer ARN, is provider.ErrInvalid in every method, as Get has it).
// These canonical IDs are what List returns and what Filter.IDs match.
// Every method also accepts a group's or function's plain name (looked up
// as a group first, then as a function) and the ARNs of instances,
// volumes ("arn:aws:ec2:REGION:ACCOUNT:volume/vol-...") and groups. RDS DB instance ARNs ("arn:aws:rds:REGION:ACCOUNT:db:NAME") are
// accepted by QueryMetric and Activity only: the driver reads their
// CloudWatch metrics but does not inventory them (no RDS client is linked
// in), so their existence is not checked. An ARN names a resource of its
// region and its account: one of another region than the driver's, or of
// another account than the one its credentials belong to, is
// provider.ErrNotFound naming both, before any read or change (a group's,
// a function's or a database's name, unique only within an account's
// region, would otherwise name another resource of the driver's). The
// driver's account is Config.AccountID, else asked of STS
// (GetCallerIdentity, which needs no IAM permission) once, the first time
// an ARN naming an account is given: a host that passes no ARN makes no
// such call, and a lookup that fails fails the ARN's call. So with a
// function's partial ARN ("ACCOUNT:function:NAME"), which Lambda takes
// as a name: the function it names must be of the driver's account. A
// group's ARN names one group, by its UUID
// ("autoScalingGroup:UUID:autoScalingGroupName/NAME"): Auto Scaling gives
// a group created with the name of a deleted one a new UUID, so an ARN
// whose UUID is not that of the group of its name now is
// provider.ErrNotFound naming both UUIDs, before any read or change
// (SetCapacity would otherwise change a group its caller never meant).
// An ARN with the UUID all zeros (or empty), as a host that knows only
// the group's name builds it, names the group of its name, whichever it is.
//
// # Load balancers
//
// List and Get return Application Load Balancers (ELBv2
// DescribeLoadBalancers, every page, Config.PageSize up to 400 a page;
// DescribeTags 20 load balancers a call, its limit) as resources of kind
// load_balancer: ID the ARN, Name the load balancer's name (or its "Name"
// tag), LaunchTime its CreatedTime, HourlyCost Config.LoadBalancerHourlyCost
// (0, unknown, by default: ELBv2 gives no price). Its state maps
// provisioning to pending, active and active_impaired to running (an
// impaired load balancer still routes traffic, and is billed, only
// without the resources to scale), and failed to terminated (it could not
// be set up and routes nothing: its lack of requests is no idleness).
// Network and gateway load balancers are not listed, and Get of one is
// provider.ErrUnsupported: they publish no RequestCount (their metrics are
// in AWS/NetworkELB and AWS/GatewayELB, with other names), so nothing
// tells whether one is used, and the detector, which judges a load
// balancer on its requests, could never judge them. Tags cannot be
// pushed down to ELBv2: List reads every Application Load Balancer of the
// region and filters them, and one deleted between the two calls is left
// out. A List whose Filter.Kinds or Filter.IDs ask for no load balancer
// makes no ELBv2 call (and needs no ELBv2 permission). A List that does
// not name them (no Kinds and no IDs) on a host whose DescribeLoadBalancers
// is denied leaves load balancers out, with a warning in the log, and
// lists the other kinds, as it did before the driver listed load
// balancers; one that names them fails. The driver only
// reads load balancers: Start, Stop, Terminate and Resize of one are
// provider.ErrUnsupported. CanTerminate (provider.TerminateChecker) says
// which kinds Terminate may delete (instances and volumes), and CanStop
// (provider.StopChecker) which Stop may stop (instances), before anyone
// is asked to approve a terminate or a stop; both refuse an instance
// listed as a member of an Auto Scaling group (its
// aws:autoscaling:groupName tag), naming the group.
//
// # Volumes
//
// List and Get return EBS volumes (EC2 DescribeVolumes, every page,
// Config.PageSize up to 500 a page) as resources of kind volume: ID the
// volume ID, Name its "Name" tag, LaunchTime its CreateTime, HourlyCost
// its size in GiB times Config.VolumeMonthlyPrices of its type, over the
// 730.5 hours of an average month (0, unknown, for a type not priced;
// provisioned IOPS and throughput are not priced). Volume IDs (200 a
// call, on a volume-id filter, so that an unknown ID matches nothing),
// tags and states are pushed down to EC2's filters. A volume's state says
// whether it serves anything: creating is pending; in-use (attached to
// an instance, serving it) is running; available (detached: it serves
// nothing, and its storage is billed every month) is stopped; deleting
// is stopping and deleted terminated. error (its storage failed) is
// running: such a volume is not known to be detached, and only a stopped
// volume is terminated for want of use; so is one available but with an
// attachment shown (detaching). A List whose Filter.Kinds or
// Filter.IDs ask for no volume makes no DescribeVolumes call; one that
// names neither on a host whose ec2:DescribeVolumes is denied leaves
// volumes out with a warning, as for load balancers, and one that names
// them fails. Terminate deletes a detached volume (see "Actions and
// waiting"); Start, Stop and Resize of one are provider.ErrUnsupported.
//
// # Function states
//
// A Lambda function is running while Active, pending while Pending
// (Lambda does not invoke it yet), stopped while Inactive (its resources
// reclaimed after a long idleness; an invocation activates it again) and
// terminated when Failed: its creation failed, Lambda never invokes it and
// it must be deleted and created again, so nothing (stop, resize, an idle
// verdict on its missing invocations) applies to it. While its last
// configuration update is in progress or has failed (LastUpdateStatus),
// the memory and timeout GetFunction shows are not known to be in effect:
// its Size is unknown (zero), which the safety rules' rollback check
// refuses to resize from.
//
// # Tags and metadata
//
// Tags are copied into Resource.Tags verbatim; "Name" fills Resource.Name.
// The keys in Config.Tags (matched case-insensitively) fill Environment,
// Role, Criticality (low, medium, high, critical), Owner, TimeZone and
// Protected: a resource carrying "idlescale:protected" (in any case) with
// any value but false/no/0/off is protected, and safety rules refuse to
// touch it without approval. A resource carrying one of these keys in
// several spellings whose values disagree ("Environment" dev and
// "environment" production) is protected too (see TagKeys). A malformed criticality or time zone is left unset and makes
// the resource protected (rather than failing the listing, and rather than
// letting the safety rules judge it as of no criticality or in UTC). Lambda's ListFunctions returns no tags and no
// state, so List calls GetFunction once per function (Config.Concurrency
// at a time) and reads each function as Get does.
//
// # Metrics
//
// QueryMetric and QueryMetrics read CloudWatch with GetMetricData, up to 500
// queries per call (batched by time range), every page read. The driver
// has the four batch reads of package provider: GetResources,
// QueryMetrics and Activities describe the instances 200 at a time
// (DescribeInstances on an instance-id filter), the volumes 200 at a
// time (DescribeVolumes on a volume-id filter: a volume's reads need
// whether it is detached, see "Quiet counts") and the groups 50 at a
// time (DescribeAutoScalingGroups; GetResources reads their scaling
// policies too, see "Scaling alongside Auto Scaling policies"),
// GetCapacities the groups, and QueryMetrics and Activities send 500
// queries per GetMetricData call (Activities packs the queries of the
// reads whose windows cover the same whole periods, a read's one to five
// queries in one call, and reads a repeated read once); QueryMetrics and
// Activities describe load balancers 20 a call (a call ELBv2 fails for an
// unknown one among them asked again in halves; see Driver.Activities),
// while GetResources looks them up one by one; functions and names that are no
// group are looked up one by one (and in us-east-1 each function's versions
// listed once, where they decide the read; see "Quiet counts").
// So the scaling Autoscaler's pass, a detector Sweep or Scan and a
// quota.Source read a whole fleet in a few calls (Activity reads one
// resource, and describes a volume, a call each), each read failing
// alone (an unknown instance, a metric CloudWatch could not compute) and
// answered as the single call answers it, unless a call fails as a
// whole. The step must be a CloudWatch period
// (1, 5, 10, 20, 30 s or a multiple of 60 s) and becomes the period;
// start should be aligned to it. AWS publishes its own metrics at
// standard resolution, one datapoint a minute at best, whose Sum covers
// the minute: a built-in counter (the mean of network_*, disk_*,
// invocations, errors, throttles, requests, connections) read at a step
// shorter than a minute has each minute's rate (Sum/60 s) in the step
// holding its datapoint and gaps in the others, its sum is refused
// (provider.ErrUnsupported), and a datapoint whose minute runs past the
// query's end is left out, as for basic monitoring below. Statistics map as mean
// → Average, max → Maximum, min → Minimum, sum → Sum, count → SampleCount,
// pNN → pNN; CloudWatch has no "last". Steps without datapoints are gaps
// (NaN), never zeros, but for a Lambda function's invocations, errors and
// throttles, an Application Load Balancer's requests and a detached EBS
// volume's reads and writes (marked * below), whose quiet steps read 0
// where that is known: see "Quiet counts". The built-in metrics map as follows
// (Mapping returns the table; "custom/NAMESPACE/NAME" reads any other
// metric with the resource's dimension):
//
//	kind           metric           namespace           CloudWatch metric           conversion
//	instance       cpu              AWS/EC2             CPUUtilization              percent → fraction
//	instance       memory           CWAgent             mem_used_percent            percent → fraction (needs the agent)
//	instance       network_in/out   AWS/EC2             NetworkIn/NetworkOut        counter → bytes/s
//	instance       disk_read/write  AWS/EC2             EBSReadBytes/EBSWriteBytes  counter → bytes/s
//	instance       cpu_credits      AWS/EC2             CPUCreditBalance            credits
//	group          cpu, network_*, disk_* as for instances, by AutoScalingGroupName
//	group          replicas         AWS/AutoScaling     GroupInServiceInstances     count (group metrics must be enabled)
//	function       invocations      AWS/Lambda          Invocations                 counter → 1/s *
//	function       errors           AWS/Lambda          Errors                      counter → 1/s *
//	function       throttles        AWS/Lambda          Throttles                   counter → 1/s *
//	function       duration         AWS/Lambda          Duration                    ms → s
//	database       connections      AWS/RDS             DatabaseConnections         count (an activity signal)
//	database       cpu              AWS/RDS             CPUUtilization              percent → fraction
//	load_balancer  requests         AWS/ApplicationELB  RequestCount                counter → 1/s *
//	load_balancer  connections      AWS/ApplicationELB  ActiveConnectionCount       counter → 1/s
//	volume         disk_read        AWS/EBS             VolumeReadBytes             counter → bytes/s *
//	volume         disk_write       AWS/EBS             VolumeWriteBytes            counter → bytes/s *
//
// A volume has no disk_utilization: VolumeIdleTime (seconds idle in each
// period) gives it as 1 − idle/period, which the table's Scale, a factor,
// cannot express.
//
// A counter's mean is its rate over the step (CloudWatch's Sum divided by
// the step in seconds), its sum the total in the step, its count the number
// of datapoints; max, min and percentiles of counters are unsupported
// because CloudWatch's are per published datapoint, not per second.
//
// Lambda's Errors, Throttles and Invocations, an ALB's RequestCount, and
// custom counts such as a load balancer's
// custom/AWS/ApplicationELB/HTTPCode_Target_5XX_Count, have a datapoint
// only for a period with events. The driver reads a quiet step of
// Lambda's or of an ALB's RequestCount as 0 only where that is known (see
// "Quiet counts": not within Config.PublishDelay of now, not before the
// function's LastModified or the load balancer's CreatedTime, not for a
// function that may run at the edge); the others' quiet periods are gaps,
// not zeros. A
// scaling verification signal on one (scaling.VerifyConfig's Signals and
// ScaleOutSignals: a function's errors with statistic sum and max 0)
// should set MissingIsZero, as a CloudWatch alarm on it sets
// TreatMissingData to notBreaching: without it a quiet window is unknown
// (for the quiet counts, until the driver's PublishDelay has passed since
// it ended, and for good before LastModified, which a resize moves to its
// own time, or CreatedTime) and rolls the step back, and a window with a few errors is
// waited for until the verification's timeout. Its sum is what zeros in the gaps
// would give, and so is a built-in counter's mean (errors, throttles,
// requests: the rate); a custom metric is read as a gauge, whose mean is
// the average of the datapoints published (the gaps left out, so higher
// than with zeros), so a signal on a custom count watches its sum.
//
// An instance with basic monitoring (Monitoring.State "disabled", EC2's
// default) has one datapoint per 5 minutes, stamped at the start of its
// interval, whose Sum covers the 5 minutes. The driver reads the state
// with the instance and, for its EC2 counters (network_*, disk_*): a step
// that is a multiple of 5 minutes reads as above; a shorter step (such as
// 1m) has the rate of each datapoint (Sum/300 s) in the step holding its
// timestamp and gaps in the others, and leaves out a datapoint whose 5
// minutes run past the query's end (possibly incomplete), while its sum
// is refused; any other step (6m) is refused, as is every such step
// while monitoring is changing (pending, disabling). Refusals are
// provider.ErrUnsupported naming the instance. Gauges (cpu) need nothing:
// a step shorter than 5 minutes simply has gaps. Those gaps matter to the
// scaling strategies that act on the latest value (threshold, target
// value, HPA, step: 1-minute steps by default, data five steps old or more
// read as no data): on basic monitoring they find no recent enough point
// and keep the capacity, so give them a step of 5m, as examples/aws does,
// or turn on detailed monitoring. Groups' metrics are read
// at the step asked (the driver does not know their instances'
// monitoring): a group's EC2 counter read at a step shorter than 5
// minutes while its instances have basic monitoring divides each
// 5-minute Sum by the step (by the minute for a step shorter than one),
// so its rate reads up to 5 times too high (1m: 5×); read groups' counters at a multiple of 5 minutes unless their
// launch template turns on detailed monitoring. The state is today's:
// data published before monitoring last changed keeps the period it had.
//
// # Quiet counts
//
// EBS publishes a volume's metrics only while it is attached to an
// instance (on a Nitro instance every minute, zeros included; on an older
// Xen instance only for periods with I/O), so a detached volume has no
// datapoint at all, and without zeros its reads and writes could never
// read idle. A step of a volume's disk_read or disk_write without a
// datapoint reads 0 by the rules below, with the volume's CreateTime
// (DescribeVolumes, once per read, 200 volumes a call in a batch read,
// which the read makes to check that it exists; a describe that fails
// fails the read) as since when it is known
// to exist, and only while the volume is detached (available) at the
// read, and only for the steps after the series' last datapoint in the
// window: before it the volume was attached, and a gap of an attached
// volume may be CloudWatch's outage, not quiet. An attached (in-use)
// volume keeps its gaps. So what a read answers about a past hour
// depends on the volume's state at the read: a detector.Tracker that read
// an hour while the volume was detached keeps its zeros (true: nothing
// can read or write a detached volume), where a full read made after the
// volume was attached again, and wrote, reads that hour as gaps, not
// knowing it was detached then. The Tracker's verdicts on such a volume
// may then differ from Scan's, on the side of the zeros it read.
//
// Lambda publishes a function's Invocations, Errors and Throttles only
// for the minutes it was invoked (errored, was throttled) in, and Elastic
// Load Balancing an Application Load Balancer's RequestCount only for the
// minutes a request reached it in, so an unused function or load balancer
// has no datapoint at all. A step of a function's invocations, errors or
// throttles, or of a load balancer's requests, without a datapoint reads
// 0 (the mean, the sum and the count of datapoints alike: a step with
// none published has none) when all of these hold, and stays a gap
// otherwise:
//
//   - the step starts at or after since when the resource is known to
//     exist: a load balancer's CreatedTime (ELBv2 DescribeLoadBalancers,
//     which the read makes to check that it exists; when that call fails
//     otherwise than not found, without the permission say, the read
//     stands as before, gaps, with a warning), a function's
//     LastModified. Lambda gives no creation time; LastModified (also
//     Resource.LaunchTime) is at or after it, and before it the function
//     may not have existed, so nothing is known. Every change of the
//     function's configuration or code moves it (a Resize too), and the
//     quiet steps begin again there.
//   - the step ended at least Config.PublishDelay (default 5 minutes)
//     before the real time of the read: until then its datapoint may not
//     be published yet.
//   - CloudWatch still keeps the step's period (datapoints of a minute for
//     15 days, of five for 63, of an hour for 455, each less an hour, as
//     Activity's tiers): an older step is unknown, not quiet. And the
//     step is a multiple of the period CloudWatch asks of the query's
//     Start, on which Start lies (a minute when Start is less than 15
//     days old, five up to 63, an hour before: CloudWatch answers a
//     query with a finer period with no datapoint at all, and rounds a
//     Start off that period down, its datapoints then straddling the
//     steps).
//   - the step is whole minutes and the query's Start is on a minute: a
//     finer step, or one cutting through the one-minute datapoints, may
//     lack a datapoint that the step beside it holds.
//   - CloudWatch answered the read whole (status Complete): a read that
//     failed, or a result CloudWatch could not compute, fails as before; a
//     result it did not give, or gave in part, keeps its gaps.
//   - a function may not run at the edge (below; a load balancer or a
//     volume has no such check).
//
// Lambda@Edge: a function replicated to CloudFront's edge (created in
// us-east-1) publishes its metrics in the regions where it runs, not in
// us-east-1, so there a function in heavy use at the edge has no
// datapoint. Lambda@Edge runs only a published (numbered) version, so in
// us-east-1 the driver asks ListVersionsByFunction (every page, until one
// is found), once its datapoints are read, about each function whose
// quiet count has steps to fill (a series with a datapoint in every step,
// or with only steps too recent or too old to fill, is asked nothing),
// and about each function whose activity the answer
// decides (one without a datapoint in the window, or modified after its
// Start: one invoked in the window and modified before it reads the same
// either way, and is asked nothing; a batch asks a function once), and a function with a published version keeps its gaps and has no quiet
// activity, as before; when the call fails (without the
// lambda:ListVersionsByFunction permission, say) the function may be one,
// and is read the same way, with a warning in the log naming the call: a
// check that cannot decide never zero-fills, and never fails a read that
// needs no zeros (a scaling signal on a function's errors). Many functions that never run at the edge
// publish versions too (aliases, provisioned concurrency); a host that runs
// no Lambda@Edge function sets Config.IgnoreFunctionVersions to read them
// as quiet too, without the call. No check is made in other regions. (The
// execution role's trust in edgelambda.amazonaws.com would tell more, but
// needs an IAM client and iam:GetRole.)
//
// An ALB's ActiveConnectionCount keeps its gaps: it is published only
// when requests flow too. The detector's default kinds
// (detector.DefaultKinds) require only a load balancer's requests and
// read its connections when there are some: an unused ALB's connections
// are all gaps, which a detector.Scan leaves out, so it is judged on its
// requests and activity; one with connections in the window is not idle
// on requests alone. Its activity is its RequestCount with the
// requests it answers itself. RequestCount counts only the requests the load balancer
// chose a target for ("Requests that are rejected before a target is
// chosen are not reflected in this metric"): one that only redirects,
// answers fixed responses or its own errors reads 0 requests while in
// use. Its activity counts those too (HTTP_Redirect_Count,
// HTTP_Fixed_Response_Count, HTTPCode_ELB_4XX_Count and
// HTTPCode_ELB_5XX_Count, summed), so that it is never read as unused
// over the window a terminate needs; its requests metric is
// RequestCount alone. A network or gateway
// load balancer has no RequestCount in AWS/ApplicationELB, and its reads
// keep their gaps.
//
// # Activity
//
// Activity reads the CloudWatch metrics that count use rather than load:
// Lambda Invocations and ALB RequestCount with the requests the ALB
// answers itself (summed; see "Quiet counts") as api_calls, an EBS
// volume's VolumeReadOps and VolumeWriteOps (summed) as file_access, and
// RDS DatabaseConnections (its peak) as db_queries, a proxy that is 0
// exactly when no client was connected. Instances and groups have no activity
// signal in CloudWatch: their activity is absent (unknown), never zero.
// A window is read at the finest period CloudWatch keeps from its start
// on (one minute for the last 15 days, five up to 63, an hour before),
// so that the 28 days a terminate needs are counted whole; Last is then
// the last minute of its latest period with use (the latest the use may
// have been), never the period's start, which made use look older.
//
// A function without a datapoint in the window has used nothing since
// its LastModified: its api_calls count is 0, covering the window from
// LastModified on (ActivityCount.Since, when that is after Start), and is
// absent (unknown) when LastModified is at or after End, the window ends
// after the real time (a host's clock ahead of it), the later of Start
// and LastModified is before what CloudWatch keeps (455 days less an
// hour), or the function may run at the edge (see "Quiet counts"). An
// Application Load Balancer without a datapoint has served nothing since
// its CreatedTime, read the same way (Since its CreatedTime when that is
// after Start; absent when it is at or after End, or by the same rules of
// the real time). With datapoints,
// Since is the earlier of LastModified and the first datapoint's period,
// so that the cover holds what is counted: CloudWatch keys Lambda's
// metrics by the function's name, and a datapoint shows that a function
// of that name was there (this one, modified since, or a deleted
// predecessor, whose use then counts as this one's; a load balancer's
// dimension holds its unique ID). A detached (available) volume without
// a datapoint has done no I/O since its CreateTime, read as a load
// balancer is (Since its CreateTime when that is after Start; absent
// when it is at or after End, by the same rules of the real time and
// retention); one whose datapoints in the window are all 0 (published
// while it was attached) counts 0 from the last one's period on only
// (Since, when after Start), a gap before it being possibly CloudWatch's;
// one with I/O counts it as a function's invocations are counted. An
// attached volume without a datapoint has its activity absent (unknown),
// and with datapoints counts them over the window. A cover shorter than
// the window cannot make a terminate's 28 days (see reaper's
// Config.Actions). As with any CloudWatch count, invocations in the last
// few minutes (Config.PublishDelay) may not be counted yet: a function
// whose only use in the window came in them reads as unused. The
// reaper's re-read just before it acts reads up to the same real time,
// so it does not see them either when it runs at once; what covers them
// is that a terminate needs an approval by default (safety's
// RollbackRule: it cannot be undone), and the run that carries it out,
// after the approval, detects again on what was published by then. A
// host that lets terminates through without an approval should detect at
// least Config.PublishDelay after the window it judges ends (a Scan whose
// Now is a few minutes in the past).
//
// # Actions and waiting
//
// Terminate of an EBS volume deletes it (DeleteVolume) and waits with the
// SDK's VolumeDeleted waiter (unless Config.NoWait). It is described
// first: a volume attached to an instance (in-use, or with any
// attachment) is provider.ErrConflict naming the instances, and so is one
// creating or in error, before any change (detached, it can be deleted:
// the state, not the kind, refuses); a deleted volume is a no-op and a
// deleting one is waited for; an unknown one is provider.ErrNotFound. A
// DeleteVolume answering not found (an earlier attempt whose reply was
// lost deleted it) has the volume gone, and Terminate succeeds; one
// answering VolumeInUse (attached in between) is provider.ErrConflict.
//
// Start, Stop (with Hibernate when Config.Hibernate is set) and Terminate
// act on EC2 instances and wait, with the SDK's InstanceRunning,
// InstanceStopped and InstanceTerminated waiters and the caller's context,
// until the instance reaches the target state (Config.NoWait returns as
// soon as EC2 accepted the call). The instance is described first, so that
// starting a running instance or stopping a stopped one is a no-op and
// starting a terminated one is provider.ErrConflict; a pending instance's
// Start and a stopping one's Stop wait (unless Config.NoWait) for the
// transition under way, which can still fail (a start can end stopped). An instance in
// service in an Auto Scaling group (tagged aws:autoscaling:groupName) is
// not stopped, terminated or resized: Auto Scaling takes a stopped member
// for unhealthy and replaces it, and launches another for one terminated,
// so the calls return provider.ErrUnsupported naming the group, before any
// change; a member in Standby is acted on. Likewise Terminate of an
// instance launched by a persistent Spot request that is not cancelled
// (its SpotInstanceRequestId, read with DescribeSpotInstanceRequests,
// whose failure fails the call) is provider.ErrUnsupported naming the
// request: EC2 opens the request again and launches another instance in
// its place (cancel the request first). A one-time Spot instance is
// terminated; EC2 refuses to stop one (provider.ErrUnsupported). Resize
// of any Spot instance is provider.ErrUnsupported before any change: EC2
// does not change a Spot instance's type. SetCapacity uses
// SetDesiredCapacity (honouring the cooldown when Config.HonorCooldown is
// set: a refusal in the cooldown, or while a scaling activity is in
// progress (ScalingActivityInProgress), changed nothing and matches
// provider.ErrThrottled, which the scaling engine retries within its
// RetryDeadline, so a plan's later steps wait the cooldown out when the
// deadline is longer; a rollback, whose context the engine marks with
// provider.WithRollback, is sent with HonorCooldown false and does not
// wait for the cooldown the change it undoes started) when only the
// desired capacity changes and UpdateAutoScalingGroup
// otherwise, with the desired capacity only when it changes: a change of
// min and max alone leaves the group's desired capacity to Auto Scaling,
// which clamps it into the new bounds, rather than writing back the one
// read a moment before, which the group's own scaling may have changed
// since. Resize changes a function's memory and timeout (of $LATEST:
// an ARN or a name qualified by a version or an alias is provider.ErrUnsupported;
// validated
// against Lambda's 128–10,240 MiB and 1–900 s first, then waited for with
// the FunctionUpdatedV2 waiter, after any update already in progress; a
// size whose update failed is applied again) or an instance's type (stop, modify, start,
// restoring the previous type and state if a step fails, even after the
// caller's context ended, each step of the rollback bounded by
// Config.WaitTimeout; see ResizeError, whose RollbackErr names the state
// and type a failed rollback left the instance in:
// a running instance stopped and started again by a rollback matches no
// sentinel that says nothing changed, so that the reaper does not take
// an approval back and bounce it again at its next run).
// EC2 changes a type only while the instance is stopped, so a rollback
// waits for it to stop first, including after a start on the new type
// that EC2 accepted and that then failed (pending, stopping, stopped). A
// start that went through (the instance pending or running on the new
// type, only the wait failed, for one because the caller's context ended)
// is not undone, which would take the instance down again: the error
// matches ErrRollbackFailed and names its state and type.
//
// # Weighted groups
//
// A group whose mixed instances policy gives its instance types weights
// (WeightedCapacity), or whose DesiredCapacityType is vcpu or memory-mib,
// counts its desired capacity, min and max in capacity units, not
// instances, and so do Capacity, GetCapacities and SetCapacity: Current
// is the sum of the weights of the instances counted toward the desired
// capacity, Ready of those in service and healthy. An instance's weight
// is its WeightedCapacity as DescribeAutoScalingGroups reports it, else
// the weight of its instance type's override (moto reports none of its
// own), and 1 in a group without weights; one whose weight is not known
// (a type without an override in a weighted group) or is not a whole
// number ≥ 1 fails the read with provider.ErrInvalid naming the group,
// the instance and its type, and the WeightedCapacity (the instance's or
// its type's override) with its value, never counted as 1. Auto Scaling launches whole instances
// until the desired capacity is met, which can exceed it by less than
// one instance's weight (its overage, kept until the next change): an
// overage smaller than the lightest counted instance's weight is reported
// as Current = Desired (and Ready at most that), so that the scaling
// engine's changes settle. The engine's arithmetic needs nothing else:
// the strategies scale Current and Desired by a utilisation ratio, which
// is the same in units, and a plan's cost per unit is the group's hourly
// cost over Current; a host that sets scaling's
// TargetConfig.InstanceHourlyCost for a weighted group gives the price of
// one unit.
//
// # Scaling alongside Auto Scaling policies
//
// An Auto Scaling group with scaling policies has its desired capacity
// changed by Auto Scaling itself: a policy would undo a change the scaling
// Autoscaler made, as the Autoscaler's next pass would undo the policy's.
// So List, Get and GetResources set provider.Resource.ScaledBy of a group
// with a policy that changes its desired capacity by itself to "Auto
// Scaling policy NAME (TYPE)", the first such policy by name, and the
// Autoscaler plans no change of its desired capacity
// (scaling.ErrScaledByAnother). Such policies are the enabled (Enabled
// true or not set, Auto Scaling's default) target tracking
// (TargetTrackingScaling), step (StepScaling) and simple (SimpleScaling,
// also a policy without a type) scaling policies, whether or not a
// CloudWatch alarm invokes them yet, and the enabled predictive scaling
// policies in ForecastAndScale mode. A disabled policy (Enabled false)
// and a predictive policy that only forecasts (ForecastOnly, the default
// mode) change nothing; a policy type the driver does not know counts. Scheduled actions are not
// read: they change the capacity at set times, not continuously, so a
// group with only scheduled actions has no ScaledBy (the Autoscaler's
// change lasts until the next action).
//
// The policies are read with DescribePolicies, every page
// (Config.PageSize up to 100 a page, else Auto Scaling's default of 50).
// List, when it lists groups, and a GetResources batch, when it reads
// groups, read the policies of those groups one group at a time (one
// call each) when they are few, and otherwise every policy of the region
// once: a group has at most 50 policies (Auto Scaling's quota), so
// reading n groups costs n calls at 50 or more a page, and the region
// ceil(policies/page size); the groups are read one by one while that
// costs no more calls than a region of 500 policies would: up to 10
// groups at the default page size, 5 at 100 a page. Get of a group reads
// that group's policies alone. GetCapacities, Capacity and the metric
// reads read none. A call that fails fails the read (List; Get; every
// group read of the batch) with an error naming the IAM action
// autoscaling:DescribePolicies and the SDK's error in the chain, so that
// no group reads as scaled by nothing else when that is unknown. A host
// that knows no policy scales its groups, or that may not read them,
// sets Config.IgnoreScalingPolicies: no call, no permission, no
// ScaledBy.
//
// SetCapacity changes a group with a policy as it changes any other
// (unlike the Kubernetes driver, which refuses a replica change a
// HorizontalPodAutoscaler would undo): the Autoscaler's check of ScaledBy
// is the guard, and a host that calls SetCapacity itself should expect a
// policy to move the desired capacity again, within the bounds set.
//
// # Backups and the verification tag convention
//
// Backups lists the EBS snapshots owned by the account of a volume (its
// ResourceID the volume ID), one backup each, or of the volumes attached
// to an instance, one backup per set of snapshots taken together. An
// instance's data is on all its EBS volumes, and a snapshot of one of
// them (its root volume, say) restores none of the others: an instance's
// backup is complete only when it holds a snapshot of every EBS volume
// attached to the instance at the read, all completed, so that the safety
// engine's backup rule never lets a terminate through on a backup that
// misses a volume. Snapshots are one set when CreateImage took them for
// one AMI (known by the description it gives them, "Created by
// CreateImage(i-...) for ami-...") or when CreateSnapshots took them in
// one call (multi-volume, crash-consistent snapshots, known by the start
// time and description they share). Snapshots of the volumes taken one by
// one (CreateSnapshot, a per-volume policy), or whose descriptions or
// start times differ otherwise, are sets of their own, each incomplete on
// an instance with more than one volume: when in doubt the driver reports
// less as a backup, which blocks an action, rather than a backup that
// would lose data. Take an instance's backups with CreateSnapshots or as
// an AMI. A volume attached
// after a backup was taken leaves it incomplete; a volume detached since
// is ignored. An instance whose root device is an instance store (launched
// from an instance-store-backed AMI) has no complete backup at all: its
// root volume's data is on the host, in no snapshot, and lost when it is
// terminated. (The instance store volumes an instance type such as m5d
// gives besides an EBS root are not shown by DescribeInstances and are
// not considered: EC2 erases them at every stop as well.) A set's ID lists its snapshot IDs, comma-separated, and its
// Time is the earliest snapshot's start. A snapshot counts as verified when it carries
// the tag "idlescale:verified" (Config.Tags.Verified) whose value names how
// it was verified, such as "restore-test" or "checksum" (false, no, 0 and
// off mean not verified); "idlescale:verified-at" (Config.Tags.VerifiedAt)
// holds when, in RFC 3339; a set is verified when each of its snapshots
// is. The keys match in any case, and a snapshot carrying them in several
// spellings is verified only when none says not verified and their
// times agree. Whatever restore test a team runs should tag the
// snapshots it verified, for example:
//
//	aws ec2 create-tags --resources snap-0abc --tags \
//	  Key=idlescale:verified,Value=restore-test \
//	  Key=idlescale:verified-at,Value=2026-03-02T12:00:00Z
//
// # Errors and retries
//
// Errors wrap the provider sentinels with the SDK's error kept in the
// chain: unknown IDs (InvalidInstanceID.NotFound, InvalidVolume.NotFound, Lambda's
// ResourceNotFoundException, an absent group) match provider.ErrNotFound,
// throttling codes provider.ErrThrottled, wrong states
// (IncorrectInstanceState, VolumeInUse, ResourceConflictException) provider.ErrConflict,
// unsupported operations provider.ErrUnsupported, and a call refused for
// want of an IAM permission (AccessDenied, UnauthorizedOperation, …) or of
// valid credentials (AuthFailure, InvalidClientTokenId, ExpiredToken, …),
// or any other answer with HTTP status 401 or 403, and a CloudWatch query
// answered Forbidden, provider.ErrDenied; errors.As still reaches
// smithy.APIError. Invalid input is provider.ErrInvalid, naming the field,
// before any API call. A paged read (every page is read) whose answer
// gives again a page token it gave before fails, naming the call, rather
// than ask the same pages again until ctx ends. Each API call is retried by the SDK's standard
// retryer, at most Config.MaxAttempts attempts (throttling and 5xx), with
// exponential back-off up to Config.MaxBackoff. A change (StartInstances,
// StopInstances, TerminateInstances, DeleteVolume but for its not found,
// UpdateFunctionConfiguration, SetDesiredCapacity, UpdateAutoScalingGroup) retried
// after an attempt that may have been applied (a server error or a lost
// reply: EC2 may have carried it out) fails, whatever its last attempt
// answered (throttled, a conflict with the state the first left), with an
// error that matches none of the sentinels that say nothing changed, so
// that the reaper spends its budget and verifies; a resize whose stop
// ends so, or whose StopInstances the caller's context cut short in
// flight (EC2 may have taken it; such a request is never retried),
// starts the instance again (ErrRolledBack), unless the
// instance does not stop within Config.WaitTimeout and the driver,
// describing it then, sees it still running on its type and never
// stopped (the launch time it had, which a start after a stop renews;
// a describe at once could miss a stop EC2 took, its reads being
// eventually consistent; a wait cut short by a describe that failed
// shows nothing and ends as a stop whose rollback failed): then
// nothing changed, and the error is the one of a stop refused at once,
// with the last attempt's sentinel (provider.ErrThrottled when it was
// throttled, which the scaling engine retries and the reaper refunds),
// neither ErrRolledBack nor ErrRollbackFailed.
//
// # IAM permissions
//
// Each capability needs these actions (resource "*" or narrower ARNs):
//
//	Inventory (List, Get)  ec2:DescribeInstances, ec2:DescribeVolumes (not for a List
//	                       whose Filter asks for no volume; without it, a List of
//	                       every kind leaves volumes out, with a warning),
//	                       autoscaling:DescribeAutoScalingGroups,
//	                       autoscaling:DescribePolicies (not with Config.IgnoreScalingPolicies),
//	                       lambda:ListFunctions, lambda:GetFunction,
//	                       elasticloadbalancing:DescribeLoadBalancers,
//	                       elasticloadbalancing:DescribeTags (not for a List whose
//	                       Filter asks for no load balancer; without
//	                       DescribeLoadBalancers, a List of every kind leaves load
//	                       balancers out, with a warning)
//	MetricsSource          cloudwatch:GetMetricData, plus the Inventory describe
//	                       actions used to resolve IDs (a volume's:
//	                       ec2:DescribeVolumes, without which its reads fail; a load balancer's:
//	                       elasticloadbalancing:DescribeLoadBalancers, for its
//	                       requests to read 0 where they have no datapoint;
//	                       without it they keep their gaps, with a warning); in us-east-1,
//	                       lambda:ListVersionsByFunction for a function's invocations,
//	                       errors and throttles to read 0 where they have no datapoint
//	                       (not with Config.IgnoreFunctionVersions)
//	Actuator               ec2:DescribeInstances, ec2:StartInstances, ec2:StopInstances,
//	                       ec2:TerminateInstances (kms:CreateGrant for encrypted volumes),
//	                       ec2:DescribeSpotInstanceRequests (a Spot instance's Terminate),
//	                       ec2:DescribeVolumes, ec2:DeleteVolume (a volume's Terminate),
//	                       autoscaling:DescribeAutoScalingGroups (for a group's instances)
//	Scaler                 autoscaling:DescribeAutoScalingGroups,
//	                       autoscaling:SetDesiredCapacity, autoscaling:UpdateAutoScalingGroup
//	                       (iam:PassRole if the group uses a launch template with a role)
//	Resizer                lambda:GetFunction, lambda:UpdateFunctionConfiguration;
//	                       ec2:DescribeInstances, ec2:StopInstances, ec2:StartInstances,
//	                       ec2:ModifyInstanceAttribute, autoscaling:DescribeAutoScalingGroups
//	                       (for a group's instances)
//	BackupCatalog          ec2:DescribeInstances, ec2:DescribeVolumes, ec2:DescribeSnapshots
//	ActivitySource         cloudwatch:GetMetricData, plus the Inventory describe actions
//	                       (a load balancer's: elasticloadbalancing:DescribeLoadBalancers;
//	                       without it, its activity is unknown, with a warning; a
//	                       volume's: ec2:DescribeVolumes, without which it fails);
//	                       in us-east-1, lambda:ListVersionsByFunction for a function
//	                       (not with Config.IgnoreFunctionVersions)
//
// Any of them given an ARN that names an account calls
// sts:GetCallerIdentity once (see "Resource IDs"; not with
// Config.AccountID), which needs no permission: AWS answers it even
// when a policy denies it.
//
// A read-only dry run (Inventory, MetricsSource, BackupCatalog,
// ActivitySource) needs only
// the Describe/List/Get actions (lambda:ListVersionsByFunction among
// them) and cloudwatch:GetMetricData.
//
// # Testing against moto
//
// The package's tests run against a real moto_server (moto 5.2.1) started
// by internal/mototest. Point the driver at it with the aws.Config's
// BaseEndpoint and static credentials. moto cannot parse the Smithy
// RPCv2-CBOR protocol that service/cloudwatch speaks by default, so tests
// select the awsquery protocol:
//
//	aws.WithCloudWatchOptions(func(o *cloudwatch.Options) {
//		o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801)
//	})
//
// Production code keeps the SDK's default protocol.
package aws
