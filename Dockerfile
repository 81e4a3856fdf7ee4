# syntax=docker/dockerfile:1
# The Node version's home is .nvmrc: keep this default equal to it, or build with
#   docker build --build-arg NODE_VERSION="$(cat .nvmrc)" .
ARG NODE_VERSION=24.21.0

FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY routes ./routes
COPY functions ./functions
COPY samples ./samples
USER node
EXPOSE 3000
CMD ["node", "src/main.ts"]
