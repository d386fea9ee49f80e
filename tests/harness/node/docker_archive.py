#!/usr/bin/env python3
"""Packs one filesystem layer (a tar) into a one-layer image archive in the `docker save` format,
which `ctr images import` reads, so the test node gets its images without a registry.

    docker_archive.py --tag NAME --layer LAYER.tar --out IMAGE.tar [--cmd ARG]... [--env K=V]...

The archive is deterministic: the same layer and arguments give the same bytes (fixed dates), so
the image's digest only changes when its content does.
"""
import argparse
import hashlib
import io
import json
import os
import tarfile

CREATED = "2024-11-11T00:00:00Z"


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def add_bytes(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tag", required=True)
    ap.add_argument("--layer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cmd", action="append", default=[])
    ap.add_argument("--env", action="append",
                    default=["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
    args = ap.parse_args()

    diff_id = sha256_file(args.layer)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": CREATED,
        "config": {"Env": args.env, "Cmd": args.cmd or None},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]},
        "history": [{"created": CREATED, "created_by": "tests/harness/node/docker_archive.py"}],
    }
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    layer_name = diff_id + "/layer.tar"
    manifest = [{"Config": config_name, "RepoTags": [args.tag], "Layers": [layer_name]}]

    tmp = args.out + ".tmp"
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        add_bytes(tar, config_name, config_bytes)
        info = tar.gettarinfo(args.layer, arcname=layer_name)
        info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
        with open(args.layer, "rb") as f:
            tar.addfile(info, f)
        add_bytes(tar, "manifest.json", json.dumps(manifest).encode())
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
