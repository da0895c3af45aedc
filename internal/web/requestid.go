package web

import (
	"github.com/labstack/echo/v4"

	"layerindex/internal/requestid"
)

// Request ids. Every request gets one: it is sent back in X-Request-ID,
// added to every log line written with the request's context (the request
// line, errors, panics, and the jobs the request queued), and shown on error
// pages, so that a person reporting "500, request id: …" can be matched with
// the logs.

// HeaderRequestID carries the id, in responses (and from a trusted proxy).
const HeaderRequestID = "X-Request-ID"

// requestID gives the request its id, first of all middleware. An id sent
// by a proxy in front is kept if it looks like one.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		id := r.Header.Get(HeaderRequestID)
		if !requestid.Valid(id) {
			id = requestid.New()
		}
		c.Response().Header().Set(HeaderRequestID, id)
		c.SetRequest(r.WithContext(requestid.With(r.Context(), id)))
		return next(c)
	}
}
