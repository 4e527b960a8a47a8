package widget

import (
	"sync/atomic"
)

// tags numbers the requests pages make, so that a result arriving after its
// page was left (or asked again) is recognised as stale and dropped.
var tags atomic.Int64

func NextTag() int64 { return tags.Add(1) }
