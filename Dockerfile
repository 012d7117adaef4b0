# oomguard as a container entrypoint.
#
#   docker build -t oomguard .
#   docker run --memory 1g --oom-kill-disable oomguard  your-app args...
#
# The base images are build arguments so that images made locally (no
# registry) can stand in for Debian's; tests/docker/run.sh does that:
#   docker build --build-arg BUILD_IMAGE=... --build-arg RUN_IMAGE=... -t oomguard .
#
# The image carries the static build (make static): the same file works
# when copied into any other image, glibc, musl or distroless, as with tini:
#   COPY --from=oomguard /usr/local/bin/oomguard /usr/local/bin/oomguard
#   ENTRYPOINT ["/usr/local/bin/oomguard", "--"]
ARG BUILD_IMAGE=debian:bookworm
ARG RUN_IMAGE=debian:bookworm-slim

FROM ${BUILD_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config \
      libevent-dev libinih-dev libjansson-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY src ./src
COPY conf ./conf
# libsystemd has no static library: the static build is SYSTEMD=0. Check the
# result: no program interpreter and no shared library (ldd cannot tell a
# static-pie from a dynamic binary), it runs, and it accepts the
# configuration it is shipped with.
RUN make static \
 && ! readelf -lW build/oomguard-static | grep -q 'program interpreter' \
 && ! readelf -dW build/oomguard-static | grep -q NEEDED \
 && build/oomguard-static --version \
 && build/oomguard-static --check-config -c conf/oomguard.ini

FROM ${RUN_IMAGE}
COPY --from=build /src/build/oomguard-static /usr/local/bin/oomguard
COPY conf/oomguard.ini /etc/oomguard/oomguard.ini
# oomguard needs no privilege in a container: it reads the cgroup files
# (read-only there) and signals its own child. Kubernetes' runAsNonRoot
# wants a numeric UID. Images built FROM this one switch to USER root for
# their package installs and back to 10001 afterwards.
RUN groupadd --system --gid 10001 oomguard \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent \
      --no-create-home --shell /usr/sbin/nologin oomguard
USER 10001:10001
ENTRYPOINT ["/usr/local/bin/oomguard", "--"]
