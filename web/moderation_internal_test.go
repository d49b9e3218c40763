package web

import (
	"testing"
	"time"

	"vidid/i18n"
)

func TestHumanDuration(t *testing.T) {
	dicts, err := i18n.Dicts(i18n.Moderation)
	if err != nil {
		t.Fatal(err)
	}
	en := dicts["en"]
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{30 * time.Second, "1 min"}, {12 * time.Minute, "12 min"}, {5*time.Hour + 7*time.Minute, "5 h 07 min"},
		{24 * time.Hour, "24 h 00 min"}, {51 * time.Hour, "2 d 3 h"},
	} {
		if got := humanDuration(en, tc.d); got != tc.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
