# syntax=docker/dockerfile:1
# batchwatch: the compiled JavaScript (dist/) on production dependencies only, as a non-root user: no TypeScript,
# no tsx, no demo or simulator libraries in the image. test/production-install.test.ts performs the same install
# (deps stage + what runtime copies) in a temp dir and starts `check` and `run` from it.

# All dependencies, and `npm run build`: tsc compiles src/ to dist/ and copies the WSDLs. docker-compose.yml runs
# the SuperOffice simulator from this stage (it needs the devDependencies).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` (the build) needs the sources, copied below so this layer is cached while they change.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY bin ./bin
COPY config ./config
RUN npm run build

# Production dependencies only. --ignore-scripts: `prepare` would build, which needs the dev dependencies (the build
# stage did it); the native extras some libraries try to compile are optional.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    BATCHWATCH_CONFIG=/etc/batchwatch/batchwatch.yaml
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY config ./config
# The config file is mounted at /etc/batchwatch/batchwatch.yaml; secrets come from the environment.
USER node
EXPOSE 9464
# The health check asks /healthz on 127.0.0.1: set BATCHWATCH_HTTP_PORT (read only here) when http.port is not 9464,
# and keep http.host at 0.0.0.0 or 127.0.0.1 (another address would not answer on loopback).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.BATCHWATCH_HTTP_PORT || 9464) + '/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Run the program itself (not npm) so SIGTERM reaches it and shutdown is graceful.
ENTRYPOINT ["node", "bin/batchwatch.js"]
CMD ["run"]
