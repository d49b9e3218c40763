// Package web provides the applicant's capture page (an html/template
// rendered by CapturePage and the static assets, CSS and JavaScript, it
// loads) and the moderator pages (ModerationPage), embedded in the binary.
// The api package serves them; this package has no HTTP routes of its own
// and imports no web framework.
//
// The capture page speaks the capture protocol (docs/architecture.md):
// consent (POST /v1/capture/{token}/consent), a non-trickle WebRTC offer
// (POST /v1/capture/{token}/offer) carrying the camera track and an ordered
// data channel "guidance", and JSON messages on that channel (guidance,
// challenge, result from the server, and screen_colour, which the server
// does not send yet; settings, camera (the camera's label, read by the
// camera cue) and start from the page). Every applicant-facing string lives in the i18n
// package (i18n/capture/{kk,ru,en}.json); the moderator pages' in
// i18n/moderation.
//
// Built with the dev tag, the package reads templates, dictionaries and
// static files from its source folder on every request, so edits show on
// reload without a rebuild.
package web
