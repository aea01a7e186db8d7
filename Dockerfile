# syntax=docker/dockerfile:1
# batchwatch: runs the TypeScript sources with tsx (no build step), as a non-root user.

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only (tsx is one: it runs the sources). Native extras are optional.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    BATCHWATCH_CONFIG=/etc/batchwatch/batchwatch.yaml
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY config ./config
# The config file is mounted at /etc/batchwatch/batchwatch.yaml; secrets come from the environment.
USER node
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.BATCHWATCH_HTTP_PORT || 9464) + '/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Run the program itself (not npm) so SIGTERM reaches it and shutdown is graceful.
ENTRYPOINT ["node", "bin/batchwatch.js"]
CMD ["run"]
