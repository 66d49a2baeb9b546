"""HTTP plumbing shared by the rooms: compression, metrics, memory, paging, request parsing."""
