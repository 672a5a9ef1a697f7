"""Plumbing that every area uses and no area owns (in the manner of indico's ``indico/core``).

clock          the platform clock: ``now()`` and ``today()`` in Beijing time, the only place time is read
database       connection settings, append-only guards, optimistic locking (``Conflict``)
http           the request class, ``is_fragment()``, ``client_ip()``, security headers, the ``id`` converter
errors         error pages as a blueprint (JSON under /api/)
templating     Jinja filters and globals (the catalog and the regulation's limits)
forms          form pieces every area uses: the button-only form, versions, lenient parsers
storage        where uploaded bytes live (a folder, or s3: a bucket); files: accepting, checking and
               serving uploads
audit          the append-only audit trail
notifications  the notice outbox; sms: its SMS backends
pagecache      whole-page cache of the public directory for anonymous visitors
calendar       the working-day calendar with the staff's corrections
migration_helpers  SQL the migrations share (append-only triggers)

Nothing here registers itself at import time: ``create_app`` calls each ``init_app``.
"""
