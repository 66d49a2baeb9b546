"""Rider evidence: on-site confirmations, how they fade, and the confidence they give.

``rules`` (pure, written-down rules), ``device`` (salted device hashes), ``board`` (the
in-memory evidence every station answer reads) and ``confirm`` (a tap end to end).
"""

from stations.trust.board import TRUST_FIELDS, TrustBoard, trust_properties
from stations.trust.rules import LEVELS, STATES, Confidence, Vote, assess

__all__ = [
    "LEVELS",
    "STATES",
    "TRUST_FIELDS",
    "Confidence",
    "TrustBoard",
    "Vote",
    "assess",
    "trust_properties",
]
