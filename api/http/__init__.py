"""HTTP plumbing shared by the rooms: compression, metrics, memory, paging, request parsing,
and the hardening (security headers, body and JSON limits, rate limits, access-log filter)."""
