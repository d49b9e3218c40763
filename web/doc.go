// Package web provides the applicant's capture page: an html/template
// rendered by CapturePage and the static assets (CSS, JavaScript) it loads,
// embedded in the binary. The api package serves both; this package has no
// HTTP routes of its own and imports no web framework.
//
// The page speaks the capture protocol of DESIGN.md: consent
// (POST /v1/capture/{token}/consent), a non-trickle WebRTC offer
// (POST /v1/capture/{token}/offer) carrying the camera track and an ordered
// data channel "guidance", and JSON messages on that channel (guidance,
// challenge, screen_colour, result from the server; settings and start from
// the page). Every applicant-facing string lives in the i18n package
// (i18n/capture/{kk,ru,en}.json); the moderator pages' in i18n/moderation.
//
// Built with the dev tag, the package reads templates, dictionaries and
// static files from its source folder on every request, so edits show on
// reload without a rebuild.
package web
