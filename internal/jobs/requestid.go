package jobs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"layerindex/internal/requestid"
)

// metadataRequestID is the job metadata key of the request that queued it.
const metadataRequestID = "request_id"

// requestIDs carries a request's id into the jobs it queues: stored in the
// job's metadata when it is inserted with the request's context, put back in
// the context the job is worked with, so that the worker's log lines about it
// (on whichever machine) carry the id the person who asked was shown.
type requestIDs struct{ river.MiddlewareDefaults }

func (*requestIDs) InsertMany(ctx context.Context, many []*rivertype.JobInsertParams, doInner func(context.Context) ([]*rivertype.JobInsertResult, error)) ([]*rivertype.JobInsertResult, error) {
	if id := requestid.Of(ctx); id != "" {
		for _, p := range many {
			md := map[string]json.RawMessage{}
			if len(p.Metadata) > 0 {
				if err := json.Unmarshal(p.Metadata, &md); err != nil {
					return nil, fmt.Errorf("job %s metadata: %w", p.Kind, err)
				}
			}
			if _, set := md[metadataRequestID]; set {
				continue
			}
			md[metadataRequestID], _ = json.Marshal(id)
			b, err := json.Marshal(md)
			if err != nil {
				return nil, fmt.Errorf("job %s metadata: %w", p.Kind, err)
			}
			p.Metadata = b
		}
	}
	return doInner(ctx)
}

func (*requestIDs) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	var md struct {
		RequestID string `json:"request_id"`
	}
	// Metadata that does not parse, or an id that does not look like one,
	// is ignored: the job is worked all the same.
	if json.Unmarshal(job.Metadata, &md) == nil && requestid.Valid(md.RequestID) {
		ctx = requestid.With(ctx, md.RequestID)
	}
	return doInner(ctx)
}
