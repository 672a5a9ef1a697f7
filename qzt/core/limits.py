"""Per-address request limits (Flask-Limiter, `qzt.extensions.limiter`) on the doors guessers knock at:
logging in, registering, proving a code. One person never needs more; a script trying passwords or
listing numbers is stopped with 429 (a Chinese page) long before it gets far. Lockout per account is
separate (qzt.rules.lockout)."""

GUESSING = "10 per minute;60 per hour"
