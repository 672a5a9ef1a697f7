"""Pieces of the public directory rendered once per institution and reused: a result card, an API item,
and the counts the home page and the API show.

A search still runs its statements on every request, for everyone; what it finds is drawn from here
while the directory has not changed (pagecache's version, bumped in the same transaction as any change
to what the directory shows). Without it, loading a page's institutions with their services through the
ORM and rendering their cards took 3 of the directory page's 5 ms at 100,000 institutions, for
logged-in users and API callers too, whom the page cache does not serve. QZT_FRAGMENT_CACHE=0 turns it
off.
"""

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from threading import Lock

from flask import current_app, g

from qzt.core import pagecache

MAX_FRAGMENTS = 20_000

_lock = Lock()


def _store() -> OrderedDict:
    """This app's fragments (one store per app: each app has its own database)."""
    return current_app.extensions.setdefault("qzt_fragments", OrderedDict())


def _version() -> int | None:
    """The directory's version, read once per request."""
    if "fragment_version" not in g:
        g.fragment_version = pagecache.version()
    return g.fragment_version


def each(kind: str, ids: Iterable[int], variant: Hashable, make: Callable[[list[int]], dict]) -> list:
    """The `kind` fragment of each of `ids` (in their order) for `variant` (e.g. the words to highlight);
    `make(missing_ids)` builds those not stored (or stored before the directory's last change) as a
    dict by id. Ids that `make` leaves out are left out."""
    ids = list(ids)
    current = _version() if current_app.config["FRAGMENT_CACHE"] else None
    if current is None:
        made = make(ids)
        return [made[i] for i in ids if i in made]
    store = _store()
    found: dict[int, object] = {}
    with _lock:
        for i in ids:
            hit = store.get((kind, variant, i))
            if hit is not None and hit[0] == current:
                found[i] = hit[1]
                store.move_to_end((kind, variant, i))
    missing = [i for i in ids if i not in found]
    if missing:
        made = make(missing)
        found.update(made)
        with _lock:
            for i, fragment in made.items():
                store[(kind, variant, i)] = (current, fragment)
                store.move_to_end((kind, variant, i))
            while len(store) > MAX_FRAGMENTS:
                store.popitem(last=False)
    return [found[i] for i in ids if i in found]


def one(kind: str, variant: Hashable, make: Callable[[], object]) -> object:
    """A single `kind` piece for `variant` (e.g. the home page's counts), made by `make()` when not
    stored or stored before the directory's last change."""
    current = _version() if current_app.config["FRAGMENT_CACHE"] else None
    if current is None:
        return make()
    store, key = _store(), (kind, variant, None)
    with _lock:
        hit = store.get(key)
    if hit is not None and hit[0] == current:
        return hit[1]
    made = make()
    with _lock:
        store[key] = (current, made)
        store.move_to_end(key)
    return made


def clear() -> None:
    with _lock:
        _store().clear()
