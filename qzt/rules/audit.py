"""The audit trail's rules (security point 10): what a record's hash covers, what it may not hold, and
how long it is kept. Plain Python: no Flask, no database.

The trail is a hash chain. Each record stores ``prev_hash``, the hash of the record before it (in id
order; the first record links to GENESIS), and ``hash``, the SHA-256 of the record's canonical form:
every field *and* prev_hash. So a changed record no longer matches its own hash, and a deleted or
inserted record breaks the link of the record after it.

The canonical form must never change: every stored hash depends on it (migration 0017 imports
``record_hash`` from here to chain the records made before it).

Fields added later are OPTIONAL_FIELDS: the canonical form holds one only when the record has a value
for it, so every record made before the field existed (None there) keeps its hash, and a record that has
one is covered for it like for any other field. ``request_id`` (migration 0018) is the first: the id of
the request that made the record (qzt.core.requestlog); records made outside a request have none.
"""

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

GENESIS = "0" * 64  # the prev_hash of the first record

# Cybersecurity Law Art. 21(3): network logs are kept for no less than six months.
RETENTION_DAYS = 180

FIELDS = ("id", "at", "actor_id", "ip", "action", "object_type", "object_id", "before", "after", "note")
# Hashed only when not None (see above): a new field is added here, never to FIELDS.
OPTIONAL_FIELDS = ("request_id",)

# Keys that name a secret: before/after never hold one (a password, its hash, an SMS code, a token).
SECRET_WORDS = frozenset({"password", "passwd", "pwd", "secret", "token", "code", "otp", "captcha"})
# Values that are unmistakably a password hash (werkzeug's formats), wherever they appear.
PASSWORD_HASH = re.compile(r"^(pbkdf2|scrypt|argon2)[:$]")


def canonical(fields: Mapping, prev_hash: str) -> bytes:
    """The bytes a record's hash is taken over: compact, key-sorted JSON of every field and prev_hash,
    with the moment in UTC ISO form (so the zone the database hands it back in does not matter); an
    optional field only when it has a value."""
    at = fields["at"]
    payload = {name: fields[name] for name in FIELDS}
    payload |= {name: fields[name] for name in OPTIONAL_FIELDS if fields.get(name) is not None}
    payload["at"] = at.astimezone(UTC).isoformat() if isinstance(at, datetime) else at
    payload["prev_hash"] = prev_hash
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "surrogatepass")


def record_hash(fields: Mapping, prev_hash: str) -> str:
    """Hex SHA-256 of the record's canonical form (64 characters)."""
    return hashlib.sha256(canonical(fields, prev_hash)).hexdigest()


def as_stored(value):
    """A before/after value as the database's JSON column will hand it back (tuples become lists, keys
    strings): the hash is taken over this, so that it matches when read again."""
    return None if value is None else json.loads(json.dumps(value))


def _is_secret_key(key) -> bool:
    words = re.split(r"[^a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(key)).lower())
    return any(w in SECRET_WORDS for w in words) or any(
        s in str(key).lower() for s in ("password", "secret", "token")
    )


def secrets_in(value, path: str = "") -> list[str]:
    """Where `value` (a before/after dict, nested) holds a secret: keys naming one, password hashes."""
    found = []
    if isinstance(value, Mapping):
        for key, inner in value.items():
            where = f"{path}.{key}" if path else str(key)
            if _is_secret_key(key):
                found.append(where)
            else:
                found += secrets_in(inner, where)
    elif isinstance(value, list | tuple):
        for i, inner in enumerate(value):
            found += secrets_in(inner, f"{path}[{i}]")
    elif isinstance(value, str) and PASSWORD_HASH.match(value):
        found.append(path or "value")
    return found


def retention_start(today: date) -> date:
    """The first day whose records must still be kept: anything recorded on or after it is untouchable."""
    return today - timedelta(days=RETENTION_DAYS)


def may_remove(recorded_on: date, today: date) -> bool:
    """Whether a record made on `recorded_on` is past the retention period (kept at least 180 days)."""
    return recorded_on < retention_start(today)
