package moderation

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Calendar says which days are working days, for the moderation deadline
// (a case is decided within one working day). Days are taken in Location.
type Calendar struct {
	// Location is the time zone the working days are counted in
	// (Asia/Almaty for Kazakhstan); nil means UTC.
	Location *time.Location
	// Weekend lists the days off every week; nil means Saturday and Sunday.
	Weekend []time.Weekday
	// Holidays are further days off, as YYYY-MM-DD, and recurring fixed
	// dates, as MM-DD.
	Holidays map[string]bool
}

// KazakhstanHolidays are Kazakhstan's public holidays on fixed dates (the
// Labour Code, art. 84, and the Law on Holidays): New Year (1–2 Jan),
// Orthodox Christmas (7 Jan), International Women's Day (8 Mar), Nauryz
// (21–23 Mar), Unity Day (1 May), Defender of the Fatherland Day (7 May),
// Victory Day (9 May), Capital Day (6 Jul), Constitution Day (30 Aug),
// Republic Day (25 Oct) and Independence Day (16 Dec). Kurban Ait (a lunar
// date) and the government's yearly day transfers are not here: add them
// as dates (ParseHolidays, `serve --moderation-holidays`).
var KazakhstanHolidays = []string{
	"01-01", "01-02", "01-07", "03-08", "03-21", "03-22", "03-23", "05-01", "05-07", "05-09",
	"07-06", "08-30", "10-25", "12-16",
}

// ParseHolidays parses a comma-separated list of YYYY-MM-DD dates and
// MM-DD recurring dates into a Holidays set.
func ParseHolidays(s string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		layout := "2006-01-02"
		if len(f) == len("01-02") {
			layout = "01-02"
		}
		d, err := time.Parse(layout, f)
		if err != nil || d.Format(layout) != f {
			return nil, fmt.Errorf("%w: holiday %q is neither YYYY-MM-DD nor MM-DD", ErrInvalidRequest, f)
		}
		out[f] = true
	}
	return out, nil
}

func (c Calendar) loc() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

// WorkingDay reports whether the day t falls on (in Location) is a working day.
func (c Calendar) WorkingDay(t time.Time) bool {
	t = t.In(c.loc())
	weekend := c.Weekend
	if weekend == nil {
		weekend = []time.Weekday{time.Saturday, time.Sunday}
	}
	if slices.Contains(weekend, t.Weekday()) {
		return false
	}
	return !c.Holidays[t.Format("2006-01-02")] && !c.Holidays[t.Format("01-02")]
}

// AddWorkingTime returns the instant when d of working-day time has passed
// after t: time on days off does not count. A case that enters the queue on
// Friday at 15:00 with d = 24h is due on Monday at 15:00; one that enters on
// Saturday is due at the end of Monday.
func (c Calendar) AddWorkingTime(t time.Time, d time.Duration) time.Time {
	t = t.In(c.loc())
	for range 3660 { // ten years of days off in a row is a misconfiguration
		y, m, day := t.Date()
		next := time.Date(y, m, day+1, 0, 0, 0, 0, t.Location())
		if c.WorkingDay(t) {
			if rest := next.Sub(t); d <= rest {
				return t.Add(d)
			} else {
				d -= rest
			}
		}
		t = next
	}
	return t.Add(d)
}

// Due is when a case that entered the queue at t must be decided: one
// working day later.
func (c Calendar) Due(t time.Time) time.Time { return c.AddWorkingTime(t, 24*time.Hour) }
