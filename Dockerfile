# One image for every Setrum service; the command picks the service (see compose.yaml):
#   python -m router serve          the federation router (default, port 4000)
#   python -m subgraphs.users       users subgraph (4001)
#   python -m subgraphs.master      master subgraph (4002)
#   python -m subgraphs.transactions transactions subgraph (4003)
#   python -m biller                biller (4010)
#   python -m payments              payment provider stand-in (4020)
# Subgraphs and the biller migrate their database at start-up (USERS_SCHEMA_MODE etc.).
# The router also serves the customer web app at /app/, built in the first stage with Node.

FROM node:20-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web ./
RUN npm run build

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies and our packages (migrations and their templates ship as package data).
COPY pyproject.toml ./
COPY setrum ./setrum
COPY setrum_common ./setrum_common
COPY sts ./sts
COPY biller ./biller
COPY payments ./payments
COPY subgraphs ./subgraphs
COPY router ./router
RUN pip install . && rm -rf build

# The router reads schema/supergraph.graphql relative to the working directory.
COPY schema ./schema
COPY --from=web /web/dist ./web

RUN useradd --system --uid 10001 --no-create-home --home-dir /app setrum \
    && mkdir /app/data && chown setrum /app/data
USER setrum

# Inside a container, listen on every interface (the defaults are 127.0.0.1).
ENV SETRUM_ENV=production \
    ROUTER_HOST=0.0.0.0 \
    USERS_HOST=0.0.0.0 \
    MASTER_HOST=0.0.0.0 \
    TRANSACTIONS_HOST=0.0.0.0 \
    BILLER_HOST=0.0.0.0 \
    ROUTER_WEB_APP_DIR=/app/web

EXPOSE 4000 4001 4002 4003 4010

CMD ["python", "-m", "router", "serve"]
