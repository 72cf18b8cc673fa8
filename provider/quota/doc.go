// Package quota spends a cloud's metric-read quota deliberately: a Budget
// of calls and data points per second for one account and region, a Plan
// that packs metric queries into calls of the sizes the API allows, and a
// Source that makes every read of a provider.MetricsSource go through the
// budget, backs off when the backend throttles, and counts what it used.
//
// The defaults are CloudWatch GetMetricData's documented quotas per account
// and region: 50 calls/s; 500 metrics and 100,800 data points per call;
// 396,000 data points/s for data older than 3 hours and 180,000/s for
// recent data. A Budget spends a Share of them (default 10 %), so that a
// fleet scan leaves the rest of the account's quota to other tools.
//
// Sizing a fleet: a resource evaluated incrementally every hour reads one
// hour of 4 metrics at a 5-minute step, 48 recent points; 1,000,000 of
// them read 48 million points an hour, 13,334 points/s, 7.4 % of the
// recent-data quota, in 8,000 calls of 500 metrics (2.2 calls/s, 4.4 %).
// A full re-read of 28 days of the same metrics is 8,064 points per metric
// and 672 times as much.
//
//	budget, _ := quota.NewBudget(quota.Config{})        // 10 % of CloudWatch's
//	src, _ := quota.NewSource(cloudwatchDriver, budget) // every read spends it
//	... detector.Scan / detector.Tracker read through src ...
//	fmt.Println(budget.Usage())
package quota
