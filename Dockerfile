# byok-operator image: the operator (the entrypoint) and the byokctl ceremony tool.
#   build    Debian with the declared build stack (scripts/deps/apt-packages.txt), builds both.
#   runtime  Debian slim with only the libraries the two binaries link against and CA
#            certificates; runs as the non-root user 65532 (the chart's runAsUser). The production
#            image has no software HSM: the HSM vendor's PKCS#11 module is mounted in. A test
#            image adds SoftHSM2 with --build-arg INSTALL_SOFTHSM2=true.
# tests/chart/dockerfile_test.py keeps this file honest: stages, pinned bases, the user, no
# secrets, the CMake targets and the runtime packages against `ldd` of the built binaries.
# The bases are pinned to a dated Debian release tag; pin them by digest as well in your mirror.
FROM debian:bookworm-20241111-slim AS build
COPY scripts/deps/apt-packages.txt /tmp/apt-packages.txt
RUN apt-get update \
 && grep -vE '^\s*(#|$)' /tmp/apt-packages.txt | xargs apt-get install -y --no-install-recommends \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# .dockerignore keeps build folders, .git and key material out of the context.
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build --target byok-operator byokctl -j"$(nproc)"

FROM debian:bookworm-20241111-slim AS runtime
ARG INSTALL_SOFTHSM2=false
# Runtime libraries of byok-operator and byokctl (libc6, libgcc-s1 and zlib1g come with the base).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates libbrotli1 libcpprest2.10 libssl3 libstdc++6 libyaml-cpp0.7 \
 && if [ "$INSTALL_SOFTHSM2" = "true" ]; then apt-get install -y --no-install-recommends softhsm2; fi \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 65532 byok \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin byok
COPY --from=build /build/controller/byok-operator /usr/local/bin/byok-operator
COPY --from=build /build/cli/byokctl /usr/local/bin/byokctl
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/byok-operator"]
