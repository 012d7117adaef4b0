# oomguard as a container entrypoint. The base images are build arguments
# so that images made locally (no registry) can stand in for Debian's.
#   docker build --build-arg BUILD_IMAGE=... --build-arg RUN_IMAGE=... -t oomguard .
ARG BUILD_IMAGE=debian:bookworm
ARG RUN_IMAGE=debian:bookworm-slim

FROM ${BUILD_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config \
      libevent-dev libinih-dev libsystemd-dev \
 && rm -rf /var/lib/apt/lists/*
COPY Makefile /src/
COPY src /src/src
RUN make -C /src

FROM ${RUN_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends libevent-2.1-7 libinih1 libsystemd0 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/oomguard /usr/local/bin/oomguard
COPY conf/oomguard.ini /etc/oomguard/oomguard.ini
ENTRYPOINT ["/usr/local/bin/oomguard", "--"]
