"""Production settings for gunicorn, which reads this file by itself from the working directory
(`gunicorn app:app`, `make run`, deploy/systemd/qzt-web.service). Any setting can still be overridden on
the command line or in GUNICORN_CMD_ARGS, e.g. GUNICORN_CMD_ARGS="--threads 32".

Why threads (gthread) and not the sync worker: a sync worker serves one connection at a time, start to
end, so a client that sends its request headers one line every few seconds holds a whole worker; six of
them made the site unreachable with two workers. A gthread worker's main loop accepts connections and
hands each to a thread of its pool; a connection that sends nothing gives its thread back after 5 s and
is closed. What it costs: a client that trickles its headers holds one thread for as long as it keeps
trickling (gunicorn sets no deadline for reading a request), so the site tolerates fewer such clients
than it has threads (2 x 16), not any number. In production nginx stands in front
(deploy/nginx/qzt.conf) and reads every request whole, with its own timeouts, before passing it on:
trickling clients then never reach gunicorn at all.

Not gevent or eventlet: they would let any number of slow clients wait, but only by monkeypatching the
standard library under SQLAlchemy, psycopg and SQLite, and a request busy with the CPU (a WeasyPrint PDF,
an Excel export, a chart) would stall every other request of its worker until it finishes; with threads
the interpreter switches between them.

Measured on a 2-core machine (gunicorn 27): clients trickling one header line every 2 s, then GET
/healthz from another client, each on a new connection (tests/test_operations_health.py does it with
six). Sync, 2 workers, six tricklers: every request timed out (5 s). gthread, 2 x 4 threads, six
tricklers: about half timed out, because a worker whose threads were all taken went on accepting
connections it could not serve; capping worker_connections at the thread count made such a worker stop
accepting, so the other took them: all answered in under 0.2 s. gevent (for comparison): all under
0.15 s. These settings (2 x 16 threads, worker_connections 16): six, twelve idle or 28 tricklers, every
request answered in under 0.2 s; 40 (more than the 32 threads) made the site unreachable again. With 32
connections a worker, 20 tricklers already timed some requests out. Behind nginx (deploy/nginx/qzt.conf),
60 tricklers changed nothing (worst 0.02 s), and nginx dropped them after 10 s.
"""

import os

# Where to listen: 127.0.0.1 only (nginx is in front, or the developer's browser); PORT as `make run` has it.
bind = f"127.0.0.1:{os.environ.get('PORT') or '5000'}"

# Two processes, one per core of the machine the site was sized for (WEB_CONCURRENCY, gunicorn's own
# variable, sets another number): Python runs one thread of a process at a time.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
worker_class = "gthread"
# Requests one worker serves at once. SQLAlchemy's pool per process (5 + 10 overflow) is about as large:
# most requests hold a database connection while they run.
threads = 16
# A worker holding as many connections as it has threads stops accepting: the other worker, or the
# listen backlog, takes the next ones, rather than a worker that could not serve them yet. So no
# connection is kept alive after its response (keepalive = 0): nginx opens one per request anyway, and
# a browser reaching gunicorn directly (make run) reconnects, which costs nothing on one machine.
worker_connections = threads

# A worker whose main loop is silent this long is killed and replaced (the threads may take longer).
timeout = 30
graceful_timeout = 30
# No keep-alive (see worker_connections). A connection that sends nothing for 5 s gives its thread back
# and is closed.
keepalive = 0

# Request sizes: gunicorn's own limits (a request line of 4 KB, 100 header fields of 8 KB at most).
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# Logs go to standard error (journald under systemd). The app writes one line per request itself, with
# its request id (qzt/core/requestlog.py), so gunicorn's access log stays off; its error log is kept.
accesslog = None
errorlog = "-"
loglevel = "info"
# QZT_LOG_FORMAT=json: gunicorn's own lines (start, workers, errors) are JSON objects too, written by the
# app's formatter; its access log stays silent (a logging configuration would otherwise switch it on).
if (os.environ.get("QZT_LOG_FORMAT") or "").strip().lower() == "json":
    logconfig_dict = {
        "root": {"level": "WARNING", "handlers": []},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["json"], "propagate": False},
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
        "handlers": {
            "json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
        },
        "formatters": {"json": {"()": "qzt.core.requestlog.JsonFormatter"}},
    }

# No control socket (gunicornc): nothing here uses it, and its default place is under $HOME, shared by
# every gunicorn of the account and read-only under the systemd unit's ProtectSystem=strict.
control_socket_disable = True
