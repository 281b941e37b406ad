# Production image: the same entry as `npm start`, but with NODE_ENV=production, so it requires
# DATABASE_URL and MOMENTUM_ENCRYPTION_KEY and never starts an embedded database.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY migrations ./migrations
COPY src ./src
USER node
EXPOSE 8080
# Roles: `start` (web + worker), `web`, `worker`, `migrate`.
ENTRYPOINT ["node_modules/.bin/tsx", "src/main.ts"]
CMD ["start"]
