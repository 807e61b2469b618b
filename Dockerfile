# syntax=docker/dockerfile:1

# bgc-bridge image: one image for the API (dist/src/main.js), the Temporal worker (dist/src/worker.js) and
# the migrator (dist/src/db/migrate-cli.js); docker-compose.yml picks the process with `command`.
# Debian (glibc), not Alpine: @temporalio/core-bridge ships prebuilt binaries for glibc Linux only.
ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: every dependency, TypeScript compiled into dist/ (outDir dist, rootDir . => src/x.ts -> dist/src/x.js)
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# tsc emits only .js: the SQL migrations go next to the compiled migrator, which reads them from
# path.join(__dirname, 'migrations').
RUN npm run build \
 && mkdir -p dist/src/db/migrations \
 && cp src/db/migrations/*.sql dist/src/db/migrations/ \
 && node dist/src/temporal/bundle-workflows.js dist/workflow-bundle.js

# --- runtime: production dependencies and the compiled code only, run as the unprivileged `node` user.
# The worker loads the workflow bundle built above (WORKFLOW_BUNDLE_PATH) instead of running webpack at start.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 8080
CMD ["node", "dist/src/main.js"]
