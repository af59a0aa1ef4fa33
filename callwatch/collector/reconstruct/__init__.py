"""Grouping a source's rows into one Call per physical call: cdr.py (Master.csv rows), queue_log.py."""
