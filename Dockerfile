# byok-operator image: a Debian build stage with the declared stack, and a slim runtime stage with
# only the runtime libraries (SoftHSM2 included as an optional PKCS#11 module). Runs as non-root.
# Pin the base by digest in your registry mirror; the tag is pinned here to the Debian release.
FROM debian:bookworm-20241111-slim AS build
COPY scripts/deps/apt-packages.txt /tmp/apt-packages.txt
RUN apt-get update \
 && grep -vE '^\s*(#|$)' /tmp/apt-packages.txt | xargs apt-get install -y --no-install-recommends \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build --target byok-operator -j"$(nproc)"

FROM debian:bookworm-20241111-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates libcpprest2.10 libyaml-cpp0.7 libssl3 libboost-system1.74.0 softhsm2 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 65532 --no-create-home --shell /usr/sbin/nologin byok
COPY --from=build /build/controller/byok-operator /usr/local/bin/byok-operator
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/byok-operator"]
