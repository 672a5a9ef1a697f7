"""Review: the staff queue, admission decisions, calendar corrections, withdrawals (Art. 3, 10–12)."""
