# syntax=docker/dockerfile:1
# Sluice images, one per target: `--target proxy` (what the operator deploys per Gateway, or
# standalone on a mounted config folder) and `--target operator`. Node 24 runs the TypeScript sources
# directly (type stripping): no compile step, no dev tooling in the image.
#
# The build context is the one `npm run images` (images/build.sh) assembles: the sources plus
# production dependencies already installed there by `npm ci --omit=dev`. So the Dockerfile has no
# RUN step and builds without a container runtime (buildah here, docker buildx in the release
# workflow). BASE_IMAGE is Node's official bookworm-slim image where a registry is reachable; offline,
# images/build.sh makes the same base from Debian bookworm and the pinned Node binary.
ARG BASE_IMAGE=node:24.21.0-bookworm-slim
FROM ${BASE_IMAGE} AS app
ENV NODE_ENV=production
WORKDIR /app
COPY node_modules ./node_modules
COPY package.json ./
COPY lib/src ./lib/src
COPY proxy/src ./proxy/src
COPY operator/src ./operator/src
COPY cli/src ./cli/src
# Every module type-stripped and compiled at build time (images/build.sh): a start reads the cache
# instead of loading the type stripper. Portable: its keys are paths relative to the cache folder.
COPY .cache/node-compile ./.cache/node-compile
ENV NODE_COMPILE_CACHE=/app/.cache/node-compile NODE_COMPILE_CACHE_PORTABLE=1
LABEL org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="Sluice"
# uid 1000 (the base image's node user); nothing is written at run time, so the root filesystem can
# be mounted read-only.
USER 1000:1000
# SIGTERM drains: listeners stop accepting, in-flight requests finish, then the process exits.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "cli/src/main.ts"]

FROM app AS operator
LABEL org.opencontainers.image.title="sluice-operator" \
      org.opencontainers.image.description="Sluice operator: reconciles Gateway API objects into Sluice proxies"
EXPOSE 9901
# A small young generation: the operator is not latency-bound, and V8's default (16 MiB semi-spaces)
# was ~50 MiB of its RSS at 1,000 routes for no measurable CPU saving (npm run bench:operator reads
# this line and starts the operator with it).
ENV NODE_OPTIONS=--max-semi-space-size=2
CMD ["operator"]

FROM app AS proxy
LABEL org.opencontainers.image.title="sluice-proxy" \
      org.opencontainers.image.description="Sluice proxy: Gateway API data plane with an OpenAI-compatible API"
EXPOSE 8080 9901
CMD ["standalone", "-f", "/etc/sluice/config"]
