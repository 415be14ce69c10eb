# komandorr-cache: the service alone, on Node 20 (Debian bookworm, slim). The README's
# "Containers" section lists these build steps; test/deploy/image.test.ts fails if they drift.

# Production dependencies only. better-sqlite3 is a native module: it installs a prebuilt binary
# when one matches, else compiles, which needs python3, make and g++ (kept out of the runtime image).
FROM node:20-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# The TypeScript build, with every dependency.
FROM deps AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY sim ./sim
COPY scripts ./scripts
RUN npm run build

FROM node:20-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATABASE_PATH=/app/data/komandorr.db
# Code and dependencies belong to root (read-only for the service); only the data folder is the
# service's. A named volume mounted there starts with this ownership (node, uid 1000).
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY package.json ./
# The cache page's HTML, CSS and script (/cache), read beside dist/ at start.
COPY web ./web
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME ["/app/data"]
USER node
EXPOSE 8000
# Liveness only (the process answers): Swarm replaces an unhealthy task, and a database outage is
# no reason to. Readiness is /api/health/ready. Node's own fetch: the slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/api/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node is PID 1 and stops cleanly on SIGTERM: src/main.ts handles it (drain, stop jobs, close the
# database, exit 0 within 5 s, inside Docker's 10 s grace period).
CMD ["node", "--enable-source-maps", "dist/src/main.js"]
