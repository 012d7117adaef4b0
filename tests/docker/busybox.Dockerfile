# The static oomguard and the static Go example in an image that has
# nothing but busybox: no libc, no loader. It is made the way users put
# oomguard into their own images, as with tini:
#   COPY --from=oomguard /usr/local/bin/oomguard /bin/oomguard
# tests/docker/run.sh builds it from its locally made images.
ARG BASE_IMAGE=busybox
ARG OOMGUARD_IMAGE=oomguard
ARG APP_IMAGE=oomguard-example-go

FROM ${OOMGUARD_IMAGE} AS oomguard
FROM ${APP_IMAGE} AS app

FROM ${BASE_IMAGE}
COPY --from=oomguard /usr/local/bin/oomguard /bin/oomguard
COPY --from=oomguard /etc/oomguard/oomguard.ini /etc/oomguard/oomguard.ini
COPY --from=app /usr/local/bin/gcapp /bin/gcapp
USER 65534:65534
ENTRYPOINT ["/bin/oomguard", "--"]
CMD ["/bin/gcapp"]
