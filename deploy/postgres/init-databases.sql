-- Runs once, when the PostgreSQL data volume is first initialised (docker-entrypoint-initdb.d).
-- One database per service: each owns its tables and its migration history
-- (<service>_alembic_version); the services create their tables themselves at start-up.
CREATE DATABASE users;
CREATE DATABASE master;
CREATE DATABASE transactions;
CREATE DATABASE biller;
CREATE DATABASE payments;
-- The routers' shared store: rate-limit counters and APQ documents (router/shared_store.py).
CREATE DATABASE router;
