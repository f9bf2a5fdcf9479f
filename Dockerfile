# MTS: one image for every role (api, worker --role …, migrate, schedules sync, watch-alerts).
# Build stage: all dependencies, then `npm run build` (dist/cli.js and the prebuilt workflow bundle).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
COPY web ./web
RUN npm run build

# Runtime stage: production dependencies, the build, configs and migrations; plain node, no TypeScript.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production MTS_DATA_DIR=/data HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config ./config
COPY drizzle ./drizzle
RUN mkdir -p /data/alerts /data/inbox && chown -R node:node /data
USER node
VOLUME ["/data"]
# API on 3000; a worker's /health and /metrics on 9464.
EXPOSE 3000 9464
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["api"]
