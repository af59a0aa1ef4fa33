"""Fixture factories shared by the tests, one module per subject.

data (the set-A recording and its ground truth), settings (one Settings builder
on a real SQLite file), clock (practice-local times), calls (hand-built Call
records for metrics), dashboard (a practice day, login, Dash callback payloads),
history (eight weeks with a known training effect), imports (CDR variants),
ami and amiserver (the collector against a real TCP AMI server), pg (a
throwaway PostgreSQL cluster and the backend-parametrised `engine` fixture).
"""
