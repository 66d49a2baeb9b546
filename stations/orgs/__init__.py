"""Organisations and scoped roles: who may write which stations.

A user's role (viewer, editor, admin) holds on their organisation and everything below it.
The check lives in ONE place, inside the store's write transaction
(:func:`stations.orgs.scope.guard`), so the API, the console, imports and the command line
cannot differ: each write names its actor, and the store resolves the actor's scope.
Reads are narrowed instead of refused: a :class:`ReadScope` (the reader's organisation and
below; everything for the root and for anonymous readers) is resolved once per request and
handed to analysis, exports, statistics and the console.
"""

from stations.orgs.scope import EVERYWHERE, ReadScope, Scope, guard, scope_for
from stations.orgs.tree import Org

__all__ = ["EVERYWHERE", "Org", "ReadScope", "Scope", "guard", "scope_for"]
