# aks-lifecycle-bot: runs outside the cluster it manages.
# Build: docker build -t aks-lifecycle-bot .
# Run:   docker run -p 8080:8080 -v /srv/aks-bot:/config -e AKS_BOT_CONFIG=/config/config.yaml aks-lifecycle-bot

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci
COPY bot ./bot
COPY core ./core
COPY scheduler ./scheduler
RUN npm run build

FROM node:20-bookworm-slim AS runtime
# MALLOC_ARENA_MAX: glibc otherwise gives each thread that allocates (zlib, crypto and libuv workers) its own
# malloc arena, and freed megabyte buffers stay mapped in them; two arenas keep a backup's peak RSS about 20 MB
# lower at the same speed (bench/results/backup.md)
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    AKS_BOT__bot__listen__host=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY infrastructure/config ./infrastructure/config
# the embedded local configuration keeps its state in /app/.data; mount a volume there in production
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["node", "dist/bot/healthcheck.js"]
CMD ["node", "dist/bot/main.js"]
