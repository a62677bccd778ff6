"""The ``users`` subgraph: customers, sign-up/sign-in and profiles. Owns ``Customer @key(fields: "id")``."""
