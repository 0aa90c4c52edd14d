# meshprovd for the cloud: answers every Wirepas gateway on an MQTT broker.
#
#   docker build -t meshprov .
#   docker run -v meshprov-data:/var/lib/meshprov \
#              -v $PWD/meshprovd.conf:/etc/meshprovd/meshprovd.conf:ro \
#              -e MESHPROV_MQTT_HOST=broker.example.com -e MESHPROV_MQTT_USERNAME=prov \
#              -e MESHPROV_MQTT_PASSWORD=secret meshprov
#
# Same Debian 12 packages as the README's install step (tools/debian-packages.txt), so what the tests
# prove on Debian 12 carries over.

FROM debian:12-slim AS build
COPY tools/debian-packages.txt /src/tools/debian-packages.txt
RUN apt-get update \
 && apt-get install -y --no-install-recommends $(sed -n 's/^build: //p' /src/tools/debian-packages.txt) \
 && rm -rf /var/lib/apt/lists/*
COPY . /src
WORKDIR /src
RUN meson setup /build --buildtype=release --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
        -Dtests=false --werror \
 && ninja -C /build \
 && DESTDIR=/install meson install -C /build --no-rebuild

FROM debian:12-slim
COPY tools/debian-packages.txt /tmp/debian-packages.txt
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
        $(sed -n 's/^runtime: //p' /tmp/debian-packages.txt) \
 && rm -rf /var/lib/apt/lists/* /tmp/debian-packages.txt \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/meshprov --create-home \
        --shell /usr/sbin/nologin meshprov \
 && chmod 0700 /var/lib/meshprov
COPY --from=build /install/ /
USER meshprov
WORKDIR /var/lib/meshprov
VOLUME ["/var/lib/meshprov"]
ENTRYPOINT ["/usr/bin/meshprovd"]
CMD ["--config", "/etc/meshprovd/meshprovd.conf"]
