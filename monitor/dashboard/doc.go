// Package dashboard serves the monitor as one web page: summary figures,
// charts (SVG drawn on the server, no script needed to see them), the idle
// resources, pending approvals (a resize's or a scale action's with the
// size or capacity it goes from and to: the approval is bound to it),
// alerts and recent events, plus the JSON endpoints the page and other
// tools read. Everything it serves is embedded: no CDN, no external
// request.
//
//	d, _ := dashboard.New(dashboard.Config{Title: "prod-eu"}, log,
//		dashboard.WithAlerts(alerts), dashboard.WithApprovals(approvals),
//		dashboard.WithInventory(cloud))
//	http.Handle("/idlescale/", http.StripPrefix("/idlescale", d))
//
// # Read-only unless told otherwise
//
// Without an Authorizer the dashboard only reads: it shows pending
// approvals but offers no button, and refuses a POST to approve or deny
// with 403 (a POST to any other route is 405, as without it). With
// WithAuthorizer(a), a POST to approve or deny a request goes ahead only
// when a names the person making it (the approver recorded in the audit
// trail; the approval manager refuses self-approval), the request is
// same-origin (net/http's CrossOriginProtection: Sec-Fetch-Site or
// Origin), and it carries the page's CSRF token in the X-CSRF-Token
// header.
//
// # Endpoints
//
//	GET  /                               the page
//	GET  /static/{file}                  its script, style sheet and icon
//	GET  /api/events?resource=&kind=&source=&from=&to=&after_seq=&limit=
//	GET  /api/report                     the report (package report) of the events in memory, its realised
//	                                     savings and capacity from the changes the log keeps before them
//	GET  /api/idle                       the idle resources
//	GET  /api/alerts                     the alerts, firing first
//	GET  /api/approvals                  the pending approval requests
//	GET  /api/charts                     the charts' names
//	GET  /api/charts/{name}              a chart as Chart.js data
//	GET  /charts/{name}.svg              a chart as SVG
//	POST /api/approvals/{id}/approve     {"comment": "..."}  (WithAuthorizer)
//	POST /api/approvals/{id}/deny        {"comment": "..."}  (WithAuthorizer)
//
// Errors are JSON ({"error": "..."}) with 400 for a malformed parameter
// (naming it), 403 when not allowed, 404 for an unknown chart, approval
// request, path or static file, 405 for a method the route does not take
// (with its Allow header), 409 for a transition the request's state does not allow, 502
// when a source fails (a chart not found while the host's chart source
// failed, or one that cannot be drawn, included, and an answer JSON
// cannot carry: a NaN or infinite number a source gave, such as an
// alert's value). Times in parameters are
// RFC 3339; a "+" of a zone offset may be typed as it is (a query string
// reads it as a space, which is read back as the "+").
//
// Every resource name, tag, reason and comment is escaped: by
// html/template in the page, by gonum/plot in the charts, and the page's
// script only ever sets textContent. A Dashboard is safe for concurrent
// use.
package dashboard
