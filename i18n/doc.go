// Package i18n owns every Kazakh, Russian and English text the people-facing
// pages show (the capture page, the moderator pages, the reference CA's
// pages), the choice of language for a request (?lang=, a cookie,
// Accept-Language) and the formatting of dates with the pages' own month
// names, so no page depends on what the browser knows of Kazakh.
//
// The texts are JSON dictionaries, one per domain and language
// (<domain>/<lang>.json, a flat object of key → text with {name}
// placeholders), plus common/<lang>.json (language names, month names, date
// patterns) which every domain's dictionary includes. The package test checks
// that each key exists, non-empty and with the same placeholders, in all
// three languages.
//
// Built with the dev tag, the dictionaries are read from the source folder
// on every call, so edits show on reload without a rebuild.
package i18n
