"""`make bench`: Kinshop measured against PostgreSQL's and Django's own limits.
Bench-only code: nothing here is imported by the app."""
