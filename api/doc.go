// Package api is vidid's HTTP surface: the relying-party API (sessions,
// one-image verification), the applicant's capture endpoints (consent,
// WebRTC signalling), the operational endpoints (health, readiness,
// metrics, JWKS, OpenAPI) and the demo relying-party page.
//
// It is the only package that imports echo. It declares the narrow
// interfaces it calls (see deps.go), so the domain packages never see HTTP,
// and it maps every domain error to a status code and a safe public message
// in one place (errors.go).
package api
