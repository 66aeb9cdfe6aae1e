# syntax=docker/dockerfile:1
# One image for the operator and the built-in connector:
#   tributary operator | tributary sync | tributary drift-check | tributary validate FILE...
# Node 24 LTS; production dependencies only; runs as UID 65532 with no shell, on a read-only
# root filesystem (it writes nothing outside the emptyDir the Deployment mounts at /tmp).
# test/packaging/dockerfile.test.ts checks what can be checked without a Docker engine.

ARG NODE_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

# Production dependencies, without install scripts (none of them needs one).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Compile the operator and connector (TypeScript -> dist/operator).
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY operator ./operator
RUN ./node_modules/.bin/tsc -p tsconfig.build.json

# Run time: distroless (no shell, no package manager), non-root.
FROM ${RUNTIME_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
# The source revision in tributary_build_info (`docker build --build-arg REVISION=$(git rev-parse HEAD)`).
ARG REVISION=unknown
ENV TRIBUTARY_REVISION=${REVISION}
# package.json says "type": "module" for dist/; node_modules holds production dependencies only.
COPY --from=deps /app/package.json ./package.json
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist/operator ./dist/operator
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/nodejs/bin/node", "dist/operator/cli.js"]
CMD ["operator"]
