# RiskWatch service image: Node 20 on Debian bookworm, runs TypeScript through tsx (`npm start`).
FROM node:20-bookworm-slim

ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0 \
    DATA_DIR=/app/data \
    RULES_DIR=/app/rules \
    TIME_ZONE=Asia/Shanghai \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false

WORKDIR /app

# Dependencies first, so a source change does not reinstall them. tsx is a runtime dependency.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY tsconfig.json ./
COPY src ./src
COPY migrations ./migrations
COPY rules ./rules

# The embedded database and the .eml outbox live under DATA_DIR when no DATABASE_URL / SMTP_URL is set.
RUN mkdir -p /app/data && chown node:node /app/data
USER node

EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=5 \
  CMD node -e "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"

CMD ["npm", "start"]
