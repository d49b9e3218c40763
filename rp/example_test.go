package rp_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"vidid/rp"
)

// A relying party's callback handler checks the signature over the raw
// body before trusting it, and de-duplicates on the event id.
func ExampleVerifySignature() {
	const secret = "vcbs_example" // as returned by Clients.Create
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		if err := rp.VerifySignature(secret, r.Header.Get(rp.SignatureHeader), body, time.Now(), 5*time.Minute); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		// … skip if r.Header.Get(rp.EventIDHeader) was seen before, then act on body.
		w.WriteHeader(http.StatusNoContent)
	})

	body := `{"id":"evt_1","type":"session.decided","data":{"state":"matched"}}`
	for _, sig := range []string{rp.Sign(secret, time.Now(), []byte(body)), rp.Sign("wrong", time.Now(), []byte(body))} {
		req := httptest.NewRequest(http.MethodPost, "/vidid/callback", strings.NewReader(body))
		req.Header.Set(rp.SignatureHeader, sig)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	// Output:
	// 204
	// 401
}
