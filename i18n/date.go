package i18n

import (
	"strconv"
	"time"
)

// FormatDate writes t's calendar date in lang with the dictionaries' month
// names, whatever the reader's browser knows: "2026 жылғы 5 желтоқсан",
// "5 декабря 2026 г.", "5 December 2026". The date is t's own (convert
// with t.In first); an unknown lang is written in English.
func FormatDate(lang string, t time.Time) string {
	d := dateDict(lang)
	if d == nil {
		return t.Format(time.DateOnly)
	}
	return Translate(d, "date.pattern", "year", t.Year(), "day", t.Day(), "month", d["month."+strconv.Itoa(int(t.Month()))])
}

// FormatDateTime is FormatDate with the time of day, 24-hour:
// "2026 жылғы 5 желтоқсан, 14:05".
func FormatDateTime(lang string, t time.Time) string {
	d := dateDict(lang)
	if d == nil {
		return t.Format("2006-01-02 15:04")
	}
	return Translate(d, "date.time_pattern", "date", FormatDate(lang, t), "time", t.Format("15:04"))
}

// dateDict is lang's common dictionary (English for an unknown lang), nil
// when the dictionaries are broken.
func dateDict(lang string) map[string]string {
	all, err := current()
	if err != nil {
		return nil
	}
	if d, ok := all[common][lang]; ok {
		return d
	}
	return all[common]["en"]
}
