"""The change feed other systems follow: commit-ordered changes, cursors, webhooks."""

from stations.feed.changes import ChangePage, decode_cursor, encode_cursor, read_changes

__all__ = ["ChangePage", "decode_cursor", "encode_cursor", "read_changes"]
