package moderation

import (
	"errors"
	"testing"
	"time"
)

func TestCalendarDue(t *testing.T) {
	almaty := time.FixedZone("UTC+5", 5*3600)
	holidays, err := ParseHolidays("12-16, 2026-12-17")
	if err != nil {
		t.Fatal(err)
	}
	cal := Calendar{Location: almaty, Holidays: holidays}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, almaty)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct{ name, in, want string }{
		{"Monday morning", "2026-11-30 09:00", "2026-12-01 09:00"},
		{"Thursday noon", "2026-12-03 12:00", "2026-12-04 12:00"},
		{"Friday afternoon skips the weekend", "2026-12-04 15:00", "2026-12-07 15:00"},
		{"Saturday: the clock starts on Monday", "2026-12-05 10:00", "2026-12-08 00:00"},
		{"Sunday just before midnight", "2026-12-06 23:59", "2026-12-08 00:00"},
		{"Tuesday before a recurring and a dated holiday", "2026-12-15 17:30", "2026-12-18 17:30"},
		{"on a holiday", "2026-12-16 08:00", "2026-12-19 00:00"},
		{"the start of a Friday: due at its end", "2026-12-11 00:00", "2026-12-12 00:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cal.Due(at(tc.in)); !got.Equal(at(tc.want)) {
				t.Errorf("Due(%s) = %s, want %s", tc.in, got.In(almaty).Format("Mon 2006-01-02 15:04"), tc.want)
			}
		})
	}
	// The location matters: Friday 22:00 UTC is already Saturday in Almaty.
	fri := time.Date(2026, 12, 4, 22, 0, 0, 0, time.UTC)
	if got, want := cal.Due(fri), at("2026-12-08 00:00"); !got.Equal(want) {
		t.Errorf("Due(Friday 22:00 UTC) = %s, want %s", got.In(almaty), want)
	}
	if got, want := (Calendar{}).Due(fri), time.Date(2026, 12, 7, 22, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("UTC calendar: Due = %s, want %s", got, want)
	}
	// Every day off: no endless loop.
	all := Calendar{Weekend: []time.Weekday{0, 1, 2, 3, 4, 5, 6}}
	if got := all.Due(fri); got.Before(fri.AddDate(9, 0, 0)) {
		t.Errorf("calendar without working days: due %s", got)
	}
}

func TestParseHolidays(t *testing.T) {
	got, err := ParseHolidays(" 2026-05-27 ,01-01,, ")
	if err != nil || len(got) != 2 || !got["2026-05-27"] || !got["01-01"] {
		t.Fatalf("ParseHolidays = %v, %v", got, err)
	}
	for _, bad := range []string{"2026-13-01", "1-1", "27.05.2026", "2026-02-30", "tomorrow"} {
		if _, err := ParseHolidays(bad); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("ParseHolidays(%q) = %v, want ErrInvalidRequest", bad, err)
		}
	}
	for _, d := range KazakhstanHolidays {
		if _, err := ParseHolidays(d); err != nil {
			t.Errorf("built-in holiday %q: %v", d, err)
		}
	}
}
